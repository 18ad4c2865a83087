import * as vscode from 'vscode';

/**
 * One step of a multi-step flow, shown with VS Code's own step counter
 * ("Title (2/7)") and a Back button from the second step on. Escape cancels
 * the whole flow (undefined); Back returns BACK so the caller shows the
 * previous step with what the user had typed there.
 */
export const BACK = Symbol('back');
export type Back = typeof BACK;

interface StepBase {
  title: string;
  step: number;
  totalSteps: number;
}

export interface InputStep extends StepBase {
  prompt: string;
  value?: string;
  placeHolder?: string;
  password?: boolean;
  validate?: (value: string) => string | undefined;
  /** Said while the value is what it is, without refusing it (a token about to go out in the clear). */
  warn?: (value: string) => string | undefined;
}

export function inputStep(o: InputStep): Promise<string | Back | undefined> {
  const box = vscode.window.createInputBox();
  Object.assign(box, { title: o.title, step: o.step, totalSteps: o.totalSteps, prompt: o.prompt, value: o.value ?? '', placeholder: o.placeHolder, password: !!o.password, ignoreFocusOut: true });
  box.buttons = o.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  const message = (v: string): string | vscode.InputBoxValidationMessage | undefined => {
    const problem = o.validate?.(v);
    if (problem) return problem;
    const warning = o.warn?.(v);
    return warning ? { message: warning, severity: vscode.InputBoxValidationSeverity.Warning } : undefined;
  };
  // A value shown again after Back says its warning at once.
  if (box.value && o.warn?.(box.value)) box.validationMessage = message(box.value);
  return run(box, (done) => [
    box.onDidChangeValue((v) => (box.validationMessage = message(v))),
    box.onDidAccept(() => {
      const problem = o.validate?.(box.value);
      if (problem) box.validationMessage = problem;
      else done(box.value);
    }),
  ]);
}

export interface PickStep<T extends vscode.QuickPickItem> extends StepBase {
  items: T[];
  placeHolder?: string;
  active?: T;
}

export function pickStep<T extends vscode.QuickPickItem>(o: PickStep<T>): Promise<T | Back | undefined> {
  const qp = vscode.window.createQuickPick<T>();
  Object.assign(qp, { title: o.title, step: o.step, totalSteps: o.totalSteps, placeholder: o.placeHolder, ignoreFocusOut: true });
  qp.items = o.items;
  if (o.active) qp.activeItems = [o.active];
  qp.buttons = o.step > 1 ? [vscode.QuickInputButtons.Back] : [];
  return run(qp, (done) => [qp.onDidAccept(() => qp.selectedItems[0] && done(qp.selectedItems[0]))]);
}

function run<R>(input: vscode.InputBox | vscode.QuickPick<vscode.QuickPickItem>, wire: (done: (r: R) => void) => vscode.Disposable[]): Promise<R | Back | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const disposables: vscode.Disposable[] = [];
    const finish = (r: R | Back | undefined) => {
      if (settled) return;
      settled = true;
      for (const d of disposables) d.dispose();
      input.dispose();
      resolve(r);
    };
    disposables.push(
      ...wire((r) => finish(r)),
      input.onDidTriggerButton((b) => b === vscode.QuickInputButtons.Back && finish(BACK)),
      input.onDidHide(() => finish(undefined)),
    );
    input.show();
  });
}
