import * as vscode from 'vscode';
import type { TraceFn } from '../rcp';
import { AuditTrail } from './auditTrail';
import { formatTrace } from './traceFormat';

/** The "rstmdb" log channel. Request/response tracing costs nothing unless the level is Trace. */
export class Log implements vscode.Disposable {
  readonly channel: vscode.LogOutputChannel;

  constructor() {
    this.channel = vscode.window.createOutputChannel('rstmdb', { log: true });
  }

  info(msg: string): void {
    this.channel.info(msg);
  }
  warn(msg: string): void {
    this.channel.warn(msg);
  }
  error(msg: string): void {
    this.channel.error(msg);
  }

  /**
   * Given to the client: it already redacts AUTH tokens. Writes are logged at
   * Info whatever the level (an audit trail); everything else only at Trace.
   */
  traceHook(connection: string): TraceFn {
    const audit = new AuditTrail(connection, (line) => this.channel.info(line));
    return (direction, message) => {
      audit.observe(direction, message);
      if (this.channel.logLevel !== vscode.LogLevel.Trace) return;
      this.channel.trace(`[${connection}] ${direction === 'send' ? '→' : '←'} ${formatTrace(message)}`);
    };
  }

  dispose(): void {
    this.channel.dispose();
  }
}
