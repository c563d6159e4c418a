/**
 * Text taken from events, made safe for the person who reads it. One function per output format, each applied once,
 * where event text enters that format:
 *
 * | format              | function              | what it adds on top of the shared steps                                   |
 * | ------------------- | --------------------- | ------------------------------------------------------------------------- |
 * | Slack mrkdwn        | `escapeMrkdwn`        | `&` `<` `>` as entities, formatting characters as look-alikes               |
 * | Slack plain_text    | `escapePlainText`     | `&` `<` `>` as entities                                                     |
 * | SNS subject         | `escapeSnsSubject`    | printable ASCII only, one line, < 100 characters                            |
 * | SNS / e-mail body   | `escapeEmailText`     | nothing (plain text); `emailSafeJson` for the JSON part                    |
 * | terminal            | `escapeTerminal`      | nothing (no cap)                                                            |
 * | terminal, `--json`  | `terminalSafeJson`    | hiding characters as `\uXXXX`; not sanitised or defanged (the same value)  |
 * | HTML                | `escapeHtml`          | `&` `<` `>` `"` `'` as entities; `escapeHtmlAttribute` for machine values  |
 *
 * The shared steps (`sanitizeText`, then `defang`), in every format:
 * - Control characters (C0, C1, DEL), format characters (Unicode Cf: bidi controls U+061C, U+200E/F, U+202A-U+202E,
 *   U+2066-U+2069, zero-width U+200B-U+200D, U+2060, U+FEFF, U+180E, tags U+E0000-U+E007F, soft hyphen, …) and the
 *   other default-ignorable code points (variation selectors, Hangul fillers) are replaced by a visible `[U+XXXX]`, so
 *   an analyst sees that something was there. Lone surrogates become U+FFFD (`�`).
 * - Line breaks and tabs (LF, CR, VT, FF, NEL, U+2028, U+2029) and the other space characters become one space: event
 *   text can never start a line of its own (no forged "Outcome: resolved" line) and a subject stays one line.
 * - Links are defanged, so text from an event never becomes a clickable link where clients auto-link (Slack mrkdwn
 *   auto-links URLs and bare domains; e-mail clients auto-link URLs and `x.y` domains): `http(s):` → `hxxp(s):`,
 *   another `scheme://` → `scheme[:]//`, `mailto:` → `mailto[:]`, and every dot of a host name → `[.]`. A host name is
 *   dotted labels whose last label is a top-level domain of the IANA list (the `tlds` package), or that follow `//` or
 *   `@`, or that start with `www`. Version numbers, IP addresses and names such as `aws.ec2` or `BitcoinTool.B` stay.
 * - A format's own change that can make a host name comes before the defanging, which then sees what the reader
 *   gets: mrkdwn's look-alikes, the SNS subject's folding to ASCII, the JSON part's `\u003a`. Entities (`&lt;`) and
 *   cuts come after: they cannot make one (`&` and `;` end a label, a cut never falls inside a dotted name).
 *
 * Caps: an escaped value longer than its cap is cut (never inside an entity or a surrogate pair) and ends with a
 * visible note, `… (trimmed: 1,234 more characters)`.
 *
 * Slack's escaping rule, `&` `<` `>` only ("Formatting message text", https://docs.slack.dev/messaging/formatting-message-text/#escaping):
 * that alone neutralises `<!channel>`, `<@U…>` and `<https://x|y>`. Slack documents no escape for `*`, `_`, `~` and
 * `` ` ``: they become look-alikes, as jsx-slack does for the same problem (`*` → U+2217, `_` → U+02CD, `` ` `` →
 * U+02CB, `~` → U+223C, and their full-width forms). A leading `&gt;` (a block quote at the start of a line) gets a
 * soft hyphen (U+00AD) in front, as jsx-slack does; it is the one invisible character the escaping itself writes.
 */
import tlds from "tlds" with { type: "json" };

const SOFT_HYPHEN = "\u00ad";
const ELLIPSIS = "\u2026";

/** The default cap, in UTF-16 code units, of one escaped value. */
export const DEFAULT_ESCAPED_MAX = 1000;

/**
 * Slack's formatting characters and their look-alikes. Applied before `defang`: a look-alike is a symbol or a letter,
 * which link finders take as part of a host name where the character it replaces (`*`, `_`) ended one, so `*.com`
 * becomes `∗.com`, a link, unless the defanging sees the look-alike.
 */
const MRKDWN_LOOK_ALIKES: ReadonlyMap<string, string> = new Map([
  ["*", "\u2217"],
  ["\uff0a", "\ufe61"],
  ["_", "\u02cd"],
  ["\uff3f", "\u2e0f"],
  ["`", "\u02cb"],
  ["\uff40", "\u02cb"],
  ["~", "\u223c"],
]);

const SLACK_ENTITIES: ReadonlyMap<string, string> = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
]);

const HTML_ENTITIES: ReadonlyMap<string, string> = new Map([
  ["&", "&amp;"],
  ["<", "&lt;"],
  [">", "&gt;"],
  ['"', "&quot;"],
  ["'", "&#39;"],
]);

// ---------------------------------------------------------------------------------------------------------------
// The shared steps

/** Characters that hide or disguise text: controls, format characters and the other default-ignorable code points. */
const HIDING = /^[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]$/u;
/** Line breaks, tabs and every space separator other than U+0020: shown as one space. */
const SPACING = /^[\t\n\v\f\r\u0085\u2028\u2029\p{Zs}]$/u;

/** Whether the code point is one `sanitizeText` never lets through as itself. */
export function isHidingCharacter(codePoint: number): boolean {
  return HIDING.test(String.fromCodePoint(codePoint)) || (codePoint >= 0xd800 && codePoint <= 0xdfff);
}

/** The visible stand-in of a hiding character: `[U+202E]`. */
export function visibleCodePoint(codePoint: number): string {
  return `[U+${codePoint.toString(16).toUpperCase().padStart(4, "0")}]`;
}

/**
 * Text with every hiding character shown as `[U+XXXX]` (lone surrogates as U+FFFD), line breaks, tabs and other
 * spaces as single spaces, runs of spaces collapsed and the ends trimmed. Links are left as they are: see `defang`.
 */
export function sanitizeText(text: string): string {
  let out = "";
  let pendingSpace = false;
  // for…of walks code points; a lone surrogate comes out as one unit of its own.
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === " " || SPACING.test(char)) {
      pendingSpace = true;
      continue;
    }
    let shown = char;
    if (code >= 0xd800 && code <= 0xdfff) shown = "\ufffd";
    else if (HIDING.test(char)) shown = visibleCodePoint(code);
    if (pendingSpace && out.length > 0) out += " ";
    pendingSpace = false;
    out += shown;
  }
  return out;
}

const TOP_LEVEL_DOMAINS: ReadonlySet<string> = new Set(tlds.map((t) => t.toLowerCase()));
const DOT_LIKE = /[.\u3002\uff0e\uff61]/gu;
/**
 * A run of label characters and dots (ASCII, ideographic, full-width, half-width). A label character is what link
 * finders take for one: anything but white space, punctuation and controls (so letters, digits, marks and symbols
 * such as `^`, `|` or U+FFFD), plus `-`; `_` ends a host, as it does for them. One character class, so matching stays
 * linear on long input; the run is split into labels in code.
 */
const HOST_RUN = /(?:[^\s\p{Z}\p{P}\p{C}]|[-.\u3002\uff0e\uff61])+/gu;
const EDGE_DOTS = /^[.\u3002\uff0e\uff61]+|[.\u3002\uff0e\uff61]+$/gu;
/** A URL scheme before `//`; bounded, so a long dotted run cannot make the match quadratic. */
const URL_SCHEME = /\b([A-Za-z][A-Za-z0-9+.-]{0,31}):(?=\/\/)/g;
/** `http:` / `https:` anywhere, also glued to a word before it (`xhttp://`): over-defanging does no harm. */
const HTTP_SCHEME = /(h)tt(ps?):/gi;
/** `//` or `@` and the rest of the word: a URL's authority and path, an e-mail domain. */
const AFTER_AUTHORITY = /(?:\/\/|@)[^\s"]*/g;
const MAILTO = /\bmailto:/gi;

function isHostName(labels: readonly string[], before: string): boolean {
  // Each label up to its first symbol: link finders end a top-level domain at `<`, `|` or `^` (`example.com<`).
  const names = labels.map((l) => (/^[\p{L}\p{N}\p{M}-]*/u.exec(l.normalize("NFKC"))?.[0] ?? "").toLowerCase());
  return (
    // Any label after the first, not only the last: a client may link `x.com` in `x.com.internal`.
    names.slice(1).some((n) => TOP_LEVEL_DOMAINS.has(n) || n.startsWith("xn--")) ||
    // The first label from its last symbol on: a link finder starts a host after `<` or `|` (`<www.example`).
    /(?:^|[^\p{L}\p{N}\p{M}-])www$/iu.test(labels[0]?.normalize("NFKC") ?? "") ||
    // In the same word after `//` or `@` (a URL's authority, an e-mail address), any dotted name is a host.
    before.includes("//") ||
    before.includes("@")
  );
}

/**
 * `text` mode writes the usual defanged forms (`[.]`, `hxxp:`, `[:]`); `json` mode writes JSON escapes (`\u002e`,
 * `\u003a`) into JSON text, which a parser reads back as the very same value.
 */
function defangIn(text: string, mode: "text" | "json"): string {
  // JSON: each dot as its own escape (U+3002 as \u3002), so the value is the same.
  const dot = (d: string): string =>
    mode === "text" ? "[.]" : `\\u${(d.codePointAt(0) ?? 0x2e).toString(16).padStart(4, "0")}`;
  const colon = mode === "text" ? "[:]" : "\\u003a";
  // JSON: the schemes' colons first. `\u003a` ends in letters and digits, which a link finder takes for a label, so
  // the host names are looked for after it is written (`mailto:.com` would become the host `u003a.com`). Only escapes
  // are written, so the JSON value stays the same: no need to look for word boundaries.
  const schemes =
    mode === "json"
      ? text.replace(/:(?=\/\/)/g, colon).replace(/(https?|mailto):/gi, (_m, scheme: string) => `${scheme}${colon}`)
      : text;
  // After `//` or `@`, every dot of the word is a host's (or a path's): all of them, whatever the labels are.
  const authorities = schemes.replace(AFTER_AUTHORITY, (word) => word.replace(DOT_LIKE, dot));
  const hosts = authorities.replace(HOST_RUN, (run: string, offset: number) => {
    // Dots at either end are punctuation ("see example.com."), not part of a host name.
    const core = run.replace(EDGE_DOTS, "");
    const labels = core.split(DOT_LIKE);
    if (labels.length < 2) return run;
    const start = run.indexOf(core);
    // The word before the run (back to a space or line break, at most 64 characters: linear on long input).
    const before = /[^\s]*$/u.exec(authorities.slice(Math.max(0, offset + start - 64), offset + start))?.[0] ?? "";
    if (!isHostName(labels, before)) return run;
    return run.slice(0, start) + core.replace(DOT_LIKE, dot) + run.slice(start + core.length);
  });
  if (mode === "json") return hosts;
  return hosts
    .replace(HTTP_SCHEME, (_m, h: string, rest: string) => `${h}xx${rest}:`)
    .replace(URL_SCHEME, (m, scheme: string) => (/^hxxps?$/i.test(scheme) ? m : `${scheme}${colon}`))
    .replace(MAILTO, (m) => `${m.slice(0, -1)}${colon}`);
}

/**
 * Text in which nothing is a clickable link any more: `http(s):` → `hxxp(s):`, another `scheme://` → `scheme[:]//`,
 * `mailto:` → `mailto[:]`, host-name dots → `[.]` (see the file comment for what counts as a host name).
 */
export function defang(text: string): string {
  return defangIn(text, "text");
}

// ---------------------------------------------------------------------------------------------------------------
// Cutting

const NUMBER = new Intl.NumberFormat("en-US");

/** The visible note at the end of a cut text. */
export function trimNote(more: number): string {
  return `\u2026 (trimmed: ${NUMBER.format(more)} more character${more === 1 ? "" : "s"})`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
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

/** One unit a cut keeps or drops whole: its escaped text, and how many characters it stands for. */
interface Piece {
  text: string;
  chars: number;
}

/**
 * A run of label characters and dots. A cut inside one that has a dot could leave a host name that was none before
 * (`aws.ec2` cut after `aws.ec`: `.ec` is a top-level domain), so such a run is kept or dropped whole.
 */
const LABEL_RUN = /^(?:[^\s\p{Z}\p{P}\p{C}]|[-_.\u3002\uff0e\uff61])+$/u;
const HAS_DOT = /[.\u3002\uff0e\uff61]/u;
const ESCAPED_UNIT = /&(?:amp|lt|gt|quot|#39);|<[^<>]*>|(?:[^\s\p{Z}\p{P}\p{C}<]|[-_.\u3002\uff0e\uff61])+|[\s\S]/gu;

/** `text` as pieces: dotted label runs whole, every other code point alone, each replaced through `table`. */
function piecesOf(text: string, table?: ReadonlyMap<string, string>): Piece[] {
  const out: Piece[] = [];
  const push = (chunk: string): void => {
    let escaped = "";
    let chars = 0;
    for (const char of chunk) {
      escaped += table?.get(char) ?? char;
      chars++;
    }
    out.push({ text: escaped, chars });
  };
  for (const unit of text.match(ESCAPED_UNIT) ?? []) {
    if (LABEL_RUN.test(unit) && !HAS_DOT.test(unit)) for (const char of unit) push(char);
    else push(unit);
  }
  return out;
}

/** Already-escaped text as pieces: entities and `<…>` links whole (one character each), dotted runs whole. */
function escapedPieces(text: string): Piece[] {
  const out: Piece[] = [];
  for (const unit of text.match(ESCAPED_UNIT) ?? []) {
    if (unit.startsWith("&") || unit.startsWith("<")) out.push({ text: unit, chars: 1 });
    else if (LABEL_RUN.test(unit) && !HAS_DOT.test(unit)) for (const char of unit) out.push({ text: char, chars: 1 });
    else out.push({ text: unit, chars: Array.from(unit).length });
  }
  return out;
}

/**
 * Whole pieces up to `max` UTF-16 code units; when they do not all fit, as many as fit with the trim note after them
 * (or `ellipsis` alone when the note does not fit, or `note: false`). `prefix` is kept in front.
 */
function fitPieces(
  pieces: readonly Piece[],
  max: number,
  options: { prefix?: string; note?: boolean; ellipsis?: string } = {},
): string {
  const prefix = options.prefix ?? "";
  const ellipsis = options.ellipsis ?? ELLIPSIS;
  const limit = Math.max(0, Math.floor(max));
  let total = prefix.length;
  let chars = 0;
  for (const piece of pieces) {
    total += piece.text.length;
    chars += piece.chars;
  }
  if (total <= limit) return prefix + pieces.map((p) => p.text).join("");
  // The note for the largest possible count is at least as long as the real one, so the real one fits too.
  const worst = trimNote(chars);
  const withNote = options.note !== false && limit >= prefix.length + worst.length + 1;
  const reserve = withNote ? worst.length : ellipsis.length;
  if (limit < prefix.length + reserve) return limit >= ellipsis.length ? ellipsis : "";
  let out = prefix;
  let kept = 0;
  let left = chars;
  for (const piece of pieces) {
    if (out.length + piece.text.length > limit - reserve) break;
    out += piece.text;
    left -= piece.chars;
    kept++;
  }
  if (!withNote) return out + ellipsis;
  // The real note can be shorter than the reserved one: use the room it leaves.
  for (let next = pieces[kept]; next !== undefined; next = pieces[kept]) {
    if (out.length + next.text.length + trimNote(left - next.chars).length > limit) break;
    out += next.text;
    left -= next.chars;
    kept++;
  }
  return out + trimNote(left);
}

/**
 * `text` (already escaped for its format) cut to at most `max` UTF-16 code units with the trim note; a cut never
 * falls inside an `&…;` entity, a `<…>` link Slack is meant to see, a dotted name or a surrogate pair.
 */
export function trimEscaped(text: string, max: number): string {
  if (text.length <= max) return text;
  return fitPieces(escapedPieces(text), max);
}

/**
 * Plain text cut to at most `max` code units, ending with `ellipsis` when cut; like `truncate`, but never inside a
 * dotted name (see `LABEL_RUN`). For the SNS subject and the e-mail body's byte budget.
 */
export function cutPlain(text: string, max: number, ellipsis: string = ELLIPSIS): string {
  return fitPieces(piecesOf(text), max, { note: false, ellipsis });
}

// ---------------------------------------------------------------------------------------------------------------
// The formats

/** `text` with each of Slack's formatting characters replaced by its look-alike. */
function lookAlikes(text: string): string {
  return text.replace(/[*\uff0a_\uff3f`\uff40~]/g, (char) => MRKDWN_LOOK_ALIKES.get(char) ?? char);
}

/**
 * `text` from an event, safe inside Slack mrkdwn: sanitised, the formatting characters replaced by look-alikes,
 * defanged, `&` `<` `>` entity-encoded, and capped at `max` code units (see the file comment).
 */
export function escapeMrkdwn(text: string, max: number = DEFAULT_ESCAPED_MAX): string {
  const clean = defang(lookAlikes(sanitizeText(text)));
  return fitPieces(piecesOf(clean, SLACK_ENTITIES), max, { prefix: clean.startsWith(">") ? SOFT_HYPHEN : "" });
}

/** `text` from an event, safe inside a Slack plain_text object: sanitised, defanged, `&` `<` `>` entity-encoded, capped. */
export function escapePlainText(text: string, max: number = DEFAULT_ESCAPED_MAX): string {
  return fitPieces(piecesOf(defang(sanitizeText(text)), SLACK_ENTITIES), max);
}

/**
 * "Less than 100 characters" (Amazon SNS API Reference, Publish, Subject:
 * https://docs.aws.amazon.com/sns/latest/api/API_Publish.html).
 */
export const SNS_SUBJECT_MAX = 99;

/**
 * A subject SNS accepts ("UTF-8 text with no line breaks or control characters, and less than 100 characters long",
 * API_Publish.html; e-mail subscribers read it): sanitised, folded to printable ASCII (NFKD, accents dropped, `<` `>`
 * as `(` `)`, any other character as `?`), defanged, one line, at most 99 characters, ending with `...` when cut (the
 * full text is in the message body). Folded before the defanging, so the defanging sees the very text a mail client
 * reads: NFKD makes dots of U+FE52 and U+2024 (`example\ufe52com` would become `example.com`), and `www.aé` is no
 * link where `www.ae` is one.
 */
export function escapeSnsSubject(text: string): string {
  let ascii = "";
  for (const char of sanitizeText(text).normalize("NFKD")) {
    const code = char.codePointAt(0) ?? 0;
    if (code >= 0x0300 && code <= 0x036f) continue; // the accents NFKD split off
    if (code >= 0x20 && code <= 0x7e) ascii += char === "<" ? "(" : char === ">" ? ")" : char;
    else ascii += "?";
  }
  return cutPlain(defang(ascii).replace(/ {2,}/g, " ").trim(), SNS_SUBJECT_MAX, "...");
}

/** `text` from an event, safe in the plain-text body of an SNS message (e-mail): sanitised, defanged, capped. */
export function escapeEmailText(text: string, max: number = DEFAULT_ESCAPED_MAX): string {
  return fitPieces(piecesOf(defang(sanitizeText(text))), max);
}

/**
 * The JSON part of an SNS message body: JSON.stringify, then written so that the same JSON value reads safely in an
 * e-mail or a chat it is forwarded to: `<`, `>`, `&` and every hiding character as `\uXXXX`, and links defanged the
 * JSON way (host-name dots as `\u002e`, a scheme's colon as `\u003a`): a JSON parser reads back exactly the input.
 */
export function emailSafeJson(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  const out = escapedJson(
    JSON.stringify(value, replacer, 2) ?? "null",
    (code, char) => code === 0x3c || code === 0x3e || code === 0x26 || (code > 0x7e && hidesOrSpaces(code, char)),
  );
  // Defanged after the escapes, so a hidden character cannot split a host name from the link finder's view.
  return defangIn(out, "json");
}

/**
 * JSON for the terminal (the CLI's `--json`), pretty-printed: every hiding character (C1 controls, DEL, bidi
 * controls, zero-width and other default-ignorable characters, line and paragraph separators) as `\uXXXX`, so
 * printing it cannot drive the terminal or disguise text; JSON.stringify already escapes the C0 controls. A JSON
 * parser reads back exactly the value; links are kept, as a program reading the output expects them.
 */
export function terminalSafeJson(value: unknown): string {
  return escapedJson(
    JSON.stringify(value, null, 2) ?? "null",
    (code, char) => code >= 0x7f && hidesOrSpaces(code, char),
  );
}

function hidesOrSpaces(code: number, char: string): boolean {
  return isHidingCharacter(code) || SPACING.test(char);
}

/** `json` with each character `unsafe` picks written as `\uXXXX` (an astral one as its surrogate pair): the same value. */
function escapedJson(json: string, unsafe: (code: number, char: string) => boolean): string {
  let out = "";
  for (const char of json) {
    const code = char.codePointAt(0) ?? 0;
    if (!unsafe(code, char)) out += char;
    else if (code > 0xffff) {
      // An astral hiding character (a tag character): JSON writes it as its surrogate pair.
      for (let i = 0; i < char.length; i++) out += `\\u${char.charCodeAt(i).toString(16).padStart(4, "0")}`;
    } else out += `\\u${code.toString(16).padStart(4, "0")}`;
  }
  return out;
}

/**
 * `text` from an event, safe on a terminal: sanitised (an ANSI escape sequence shows as `[U+001B][31m`, never acts)
 * and defanged. `links: "keep"` is for what the operator typed (a file path, a queue URL): sanitised only.
 */
export function escapeTerminal(text: string, options: { links?: "defang" | "keep" } = {}): string {
  const clean = sanitizeText(text);
  return options.links === "keep" ? clean : defang(clean);
}

/**
 * `text` from an event, safe inside HTML text and quoted attributes: sanitised, defanged, capped, `& < > " '` encoded.
 * `links: "keep"` is for configured text (an approver's address): sanitised, capped and encoded, not defanged.
 */
export function escapeHtml(
  text: string,
  max: number = DEFAULT_ESCAPED_MAX,
  options: { links?: "defang" | "keep" } = {},
): string {
  const clean = sanitizeText(text);
  return fitPieces(piecesOf(options.links === "keep" ? clean : defang(clean), HTML_ENTITIES), max);
}

/**
 * A machine value (a signed token, a nonce) inside a quoted HTML attribute: `& < > " '` encoded and nothing else
 * changed, so it comes back byte for byte. Only for values the code checked (a verified token, its own nonce).
 */
export function escapeHtmlAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ENTITIES.get(c) ?? "");
}
