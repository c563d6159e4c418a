/**
 * Checks for text that reaches a person, shared by the escaping tests: hidden characters, and links a client would
 * make clickable. The link finder is linkify-it (markdown-it's linkifier) with the full IANA TLD list, fuzzy links and
 * fuzzy e-mails on: an independent implementation of what chat and mail clients auto-link, not the code under test.
 */
import { LinkifyIt } from "linkify-it";
import tlds from "tlds" with { type: "json" };

const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: false }).tlds(tlds);

/** The links a client would auto-link in `text`. */
export function linksIn(text: string): string[] {
  return (linkify.match(text) ?? []).map((m) => m.raw);
}

const HIDING = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\u2028\u2029]/u;

/**
 * The characters of `text` that hide or disguise text: controls (except the line breaks `allowed`), format and
 * default-ignorable characters, line and paragraph separators, lone surrogates. `softHyphenBeforeQuote`: the one
 * U+00AD the mrkdwn escaping writes itself, before a leading `&gt;`.
 */
export function hiddenCharacters(
  text: string,
  options: { allowed?: string; softHyphenBeforeQuote?: boolean } = {},
): string[] {
  const found: string[] = [];
  const chars = Array.from(text);
  for (const [index, char] of chars.entries()) {
    if (options.allowed?.includes(char)) continue;
    if (options.softHyphenBeforeQuote && char === "\u00ad" && chars.slice(index + 1, index + 5).join("") === "&gt;")
      continue;
    const code = char.codePointAt(0) ?? 0;
    if ((code >= 0xd800 && code <= 0xdfff) || HIDING.test(char)) found.push(`U+${code.toString(16).padStart(4, "0")}`);
  }
  return found;
}
