/**
 * Entry of the webview bundle: one bundle draws the instance inspector, the
 * machine view and the WAL explorer (the page says which). acquireVsCodeApi may be called
 * only once, so it is called here and handed down, never made global.
 */
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-icon/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-button/index.js';
import '@vscode-elements/elements/dist/vscode-toolbar-container/index.js';
import '@vscode-elements/elements/dist/vscode-tree/index.js';
import '@vscode-elements/elements/dist/vscode-tree-item/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import { startInstanceView } from './instanceView';
import { startMachineView } from './machineView';
import { startWalView } from './walView';
import './inspector.css';

// Counted so a test can assert the policy never had to block anything.
let violations = 0;
document.addEventListener('securitypolicyviolation', () => {
  violations++;
  document.body.dataset.cspViolations = String(violations);
});
document.body.dataset.cspViolations = '0';

const api = acquireVsCodeApi();
const view = document.body.dataset.view;
if (view === 'machine') startMachineView(api);
else if (view === 'wal') startWalView(api);
else startInstanceView(api);
