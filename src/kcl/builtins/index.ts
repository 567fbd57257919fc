/** Entry point for the evaluator: global builtins, string methods, option parsing. */
export { createBuiltins, iterate, type BuiltinContext } from './core.ts';
export { stringMethod } from './string-methods.ts';
export { parseOptionArgument, parseOptionValue, type OptionSource } from './option.ts';
export { formatString, applyFormatSpec } from './format.ts';
export { toInt, toFloat, toList, toDict } from './conversions.ts';
export { parseJsonValue, parseYamlValue, parseYamlStream, fromPlain } from './data.ts';
export { Args, MissingArgumentError } from './args.ts';
