import type { ConnectionManager } from '../model/connectionManager';
import { definitionToSend, planDeploy, type DeployPlan } from '../model/definitionFormat';
import { parseDefinitionFile } from '../model/definitionCheck';
import type { ServerConnection } from '../model/serverConnection';
import type { MachineDefinition } from '../rcp/types';

/** The connection a definition file deploys to without asking: the active one, or the only one. */
export function deployConnection(manager: ConnectionManager): ServerConnection | undefined {
  const all = manager.all();
  return manager.active ?? (all.length === 1 ? all[0] : undefined);
}

/** A definition file's text as the definition to send; undefined when it is not a JSON object. */
export function definitionOfText(text: string): MachineDefinition | undefined {
  const { value, syntaxErrors } = parseDefinitionFile(text);
  if (syntaxErrors.length || value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  return definitionToSend(value as Record<string, unknown>);
}

/** Where a deploy of `def` as `machine` would go on `conn` now, with the versions the server has. */
export async function currentPlan(conn: ServerConnection, machine: string, def: MachineDefinition): Promise<{ plan: DeployPlan; versions: number[] }> {
  const client = await conn.ensureClient();
  const versions = (await client.listMachines()).items.find((i) => i.machine === machine)?.versions ?? [];
  const newest = versions.length ? Math.max(...versions) : undefined;
  const latest = newest !== undefined ? (await conn.definition(machine, newest)).definition : undefined;
  return { plan: planDeploy(versions, latest, def), versions };
}
