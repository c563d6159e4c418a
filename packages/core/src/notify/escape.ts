/**
 * Text taken from events, made safe to show to humans.
 *
 * `sanitizeText` is for every surface: it removes what can hide or disguise text (control characters, ANSI escape
 * sequences, bidirectional overrides, zero-width characters, lone surrogates). `escapeMrkdwn` adds Slack mrkdwn
 * escaping on top:
 *
 * - `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`, and nothing else is entity-encoded: Slack's documented rule
 *   ("Formatting message text" → escaping text, https://docs.slack.dev/messaging/formatting-message-text/ and
 *   https://api.slack.com/reference/surfaces/formatting#escaping). That alone neutralises `<!channel>`, `<@U…>` and
 *   `<https://x|y>`, which all need a literal `<`.
 * - Slack documents no escape for the formatting characters `*`, `_`, `~` and `` ` ``. They are replaced with
 *   look-alike characters, as jsx-slack does for the same problem (https://github.com/yhatt/jsx-slack/blob/main/docs/about-escape-and-exact-mode.md,
 *   src/mrkdwn/escape.ts): `*` → U+2217, `_` → U+02CD, `` ` `` → U+02CB, `~` → U+223C, and their full-width forms.
 *   A leading `&gt;` (a block quote at the start of a line) gets a soft hyphen (U+00AD) in front, as jsx-slack does.
 *   The text reads the same; a copied ARN with `_` must be taken from the JSON (SNS) or the event, not from Slack.
 */

const SOFT_HYPHEN = "\u00ad";
const ELLIPSIS = "\u2026";

/** The default cap, in UTF-16 code units, of one escaped value. */
export const DEFAULT_ESCAPED_MAX = 1000;

const MRKDWN_REPLACEMENTS: ReadonlyMap<string, string> = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
  ["*", "\u2217"],
  ["\uff0a", "\ufe61"],
  ["_", "\u02cd"],
  ["\uff3f", "\u2e0f"],
  ["`", "\u02cb"],
  ["\uff40", "\u02cb"],
  ["~", "\u223c"],
]);

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/** Line breaks and tabs: shown as one space, so words on either side stay apart. */
function isBreakingControl(code: number): boolean {
  return (code >= 0x09 && code <= 0x0d) || code === 0x85 || code === 0x2028 || code === 0x2029;
}

/**
 * Characters removed outright: C0 and C1 controls and DEL, bidirectional marks, embeddings, overrides and isolates
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069), zero-width and invisible operators (U+200B-U+200D,
 * U+2060-U+2064, U+FEFF), and interlinear annotation and object replacement controls (U+FFF9-U+FFFB).
 */
export function isInvisibleOrControl(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    (code >= 0x200b && code <= 0x200f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x2064) ||
    (code >= 0x2066 && code <= 0x2069) ||
    code === 0xfeff ||
    (code >= 0xfff9 && code <= 0xfffb)
  );
}

/** Length of the ANSI escape sequence starting at `index` (ESC already seen): CSI `ESC [ params final`, else ESC alone. */
function ansiSequenceLength(text: string, index: number): number {
  if (text[index + 1] !== "[") return 1;
  let end = index + 2;
  while (end < text.length) {
    const code = text.charCodeAt(end);
    if (code >= 0x40 && code <= 0x7e) return end - index + 1;
    if (code < 0x20 || code > 0x3f) return end - index;
    end++;
  }
  return end - index;
}

/**
 * Text without control characters, ANSI escape sequences, bidirectional controls or zero-width characters; line breaks
 * and tabs become single spaces, runs of spaces are collapsed, the ends are trimmed and lone surrogates become U+FFFD.
 */
export function sanitizeText(text: string): string {
  let out = "";
  let pendingSpace = false;
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === 0x1b) {
      index += ansiSequenceLength(text, index);
      continue;
    }
    if (isHighSurrogate(code) && index + 1 < text.length && isLowSurrogate(text.charCodeAt(index + 1))) {
      if (pendingSpace && out.length > 0) out += " ";
      pendingSpace = false;
      out += text.slice(index, index + 2);
      index += 2;
      continue;
    }
    index++;
    if (code === 0x20 || isBreakingControl(code)) {
      pendingSpace = true;
      continue;
    }
    if (isInvisibleOrControl(code)) continue;
    if (pendingSpace && out.length > 0) out += " ";
    pendingSpace = false;
    out += isHighSurrogate(code) || isLowSurrogate(code) ? "\ufffd" : String.fromCharCode(code);
  }
  return out;
}

/**
 * At most `max` UTF-16 code units: the text itself when it fits, otherwise its start and `ellipsis`. Never cuts a
 * surrogate pair in two. When even the ellipsis does not fit, the text is cut without one.
 */
export function truncate(text: string, max: number, ellipsis: string = ELLIPSIS): string {
  const limit = Math.max(0, Math.floor(max));
  if (text.length <= limit) return text;
  const withEllipsis = ellipsis.length <= limit;
  let end = withEllipsis ? limit - ellipsis.length : limit;
  if (end > 0 && isHighSurrogate(text.charCodeAt(end - 1)) && isLowSurrogate(text.charCodeAt(end))) end--;
  return text.slice(0, end) + (withEllipsis ? ellipsis : "");
}

/**
 * `text` from an event, safe inside Slack mrkdwn: sanitised (see `sanitizeText`), `&` `<` `>` entity-encoded, the
 * formatting characters replaced by look-alikes, and capped at `max` code units (an escape sequence or a surrogate pair
 * is never cut; a cut text ends with `…`).
 */
export function escapeMrkdwn(text: string, max: number = DEFAULT_ESCAPED_MAX): string {
  const limit = Math.max(0, Math.floor(max));
  const clean = sanitizeText(text);
  const prefix = clean.startsWith(">") ? SOFT_HYPHEN : "";
  const pieces: string[] = [];
  let total = prefix.length;
  for (const char of clean) {
    const piece = MRKDWN_REPLACEMENTS.get(char) ?? char;
    pieces.push(piece);
    total += piece.length;
  }
  if (total <= limit) return prefix + pieces.join("");
  if (limit < prefix.length + ELLIPSIS.length) return "";
  let out = prefix;
  const budget = limit - ELLIPSIS.length;
  for (const piece of pieces) {
    if (out.length + piece.length > budget) break;
    out += piece;
  }
  return out + ELLIPSIS;
}
