/**
 * Text that came from jobs (logs, failure reasons) is shown in the user's terminal: escape
 * sequences in it could move the cursor, retitle the window or hide text. Strip them.
 *
 * @module
 */

// CSI (`ESC [ … final`); OSC (`ESC ] … BEL|ESC \`) and DCS/SOS/PM/APC strings (`ESC P|X|^|_ … ST`)
// with their payload; nF escapes with intermediates (`ESC ( B`); every other two-byte `ESC x`
// (Fp such as `ESC =`, `ESC 7`; Fe; Fs such as RIS `ESC c`); C1 CSI.
const ESCAPE_SEQUENCES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -/]+[0-~]|\x1b[0-~]|\x9b[0-?]*[ -/]*[@-~]/g;
// Every C0 control except \t (0x09) and \n (0x0a), DEL, and the C1 range.
const CONTROL_CHARACTERS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Removes escape sequences and control characters, keeping `\n` and `\t`. */
export function sanitizeForTerminal(text: string): string {
  return text.replace(ESCAPE_SEQUENCES, "").replace(CONTROL_CHARACTERS, "");
}

/** Any C0 or C1 control character, DEL or ESC included. */
const ANY_CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/** True when `text` holds a control character (then {@link sanitizeForTerminal} may change it). */
export function hasControlCharacters(text: string): boolean {
  return ANY_CONTROL.test(text);
}
