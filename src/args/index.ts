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
  type ArgumentEntry,
  type ArgumentsLike,
  checkKnownKeys,
  OverridePrefix,
  parseEntry,
  toWrappedArguments,
  type UnknownKeyProblem,
  WrappedArguments,
  wrapArguments,
} from "./wrap-arguments.js";
