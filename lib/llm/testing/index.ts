export { scriptedModel, ScriptExhaustedError } from './scripted-model';
export type { ScriptedModel, ScriptedModelOptions, ScriptedTurn } from './scripted-model';
export { recordModel } from './record-model';
export type { RecordModelOptions } from './record-model';
