/**
 * Passthrough ("main") arguments: parse them like a POSIX shell with {@link wrapArguments},
 * quote them back with {@link shellQuote} / {@link shellJoin}, check their keys with
 * {@link checkKnownKeys}.
 *
 * @module
 */

export { didYouMean, levenshtein, normalizeName } from "./did-you-mean.js";
export { shellJoin, shellQuote } from "./shell-quote.js";
export { splitShellWords } from "./split-words.js";
export {
  checkKnownKeys,
  OverridePrefix,
  parseEntry,
  toWrappedArguments,
  wrapArguments,
  WrappedArguments,
  type ArgumentEntry,
  type ArgumentsLike,
  type UnknownKeyProblem,
} from "./wrap-arguments.js";
