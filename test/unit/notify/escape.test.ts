import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { escapeMrkdwn, sanitizeText, truncate } from "../../../packages/core/src/notify/escape.ts";

/** Characters escapeMrkdwn must never let through. */
const FORBIDDEN = /[<>*_~`\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

function hasControl(text: string): boolean {
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (code <= 0x1f || (code >= 0x7f && code <= 0x9f)) return true;
  }
  return false;
}

function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

/** Every `&` starts one of the three entities escapeMrkdwn writes. */
function ampersandsEscaped(text: string): boolean {
  return !/&(?!amp;|lt;|gt;)/.test(text);
}

/** Strings that favour the characters that matter: mrkdwn syntax, controls, bidi, surrogates, emoji. */
const hostileChar = fc.constantFrom(
  "<",
  ">",
  "&",
  "*",
  "_",
  "~",
  "`",
  "|",
  "!",
  "@",
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u202a",
  "\u202e",
  "\u2066",
  "\u2069",
  "\u200b",
  "\u200f",
  "\ufeff",
  "\ud83d",
  "\ude00",
  "\ud83d\ude00",
  "\uff0a",
  "a",
  " ",
  "é",
);
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.array(hostileChar, { maxLength: 200 }).map((chars) => chars.join("")),
);

describe("escapeMrkdwn", () => {
  it("entity-encodes &, < and > and nothing else (Slack's escaping rule)", () => {
    expect(escapeMrkdwn("a & b < c > d \"quoted\" 'single'")).toBe("a &amp; b &lt; c &gt; d \"quoted\" 'single'");
    expect(escapeMrkdwn("&amp;")).toBe("&amp;amp;");
  });

  it("neutralises mentions, broadcasts and links", () => {
    for (const attack of ["<!channel>", "<!here>", "<!everyone>", "<@U0123ABCD>", "<#C024BE7LR>", "<!subteam^S01>"]) {
      const out = escapeMrkdwn(attack);
      expect(out).not.toContain("<");
      expect(out).not.toContain(">");
    }
    expect(escapeMrkdwn("<https://evil.example|click>")).toBe("&lt;https://evil.example|click&gt;");
  });

  it("replaces the formatting characters with look-alikes", () => {
    expect(escapeMrkdwn("*urgent* _it_ ~gone~ `rm -rf`")).toBe(
      "\u2217urgent\u2217 \u02cdit\u02cd \u223cgone\u223c \u02cbrm -rf\u02cb",
    );
    expect(escapeMrkdwn("\uff0abold\uff0a")).toBe("\ufe61bold\ufe61");
  });

  it("puts a soft hyphen before a leading > so it cannot open a block quote", () => {
    expect(escapeMrkdwn("> quoted")).toBe("\u00ad&gt; quoted");
    expect(escapeMrkdwn("\n\n> quoted")).toBe("\u00ad&gt; quoted");
  });

  it("strips control characters, ANSI sequences, bidi overrides and zero-width characters", () => {
    expect(escapeMrkdwn("a\u0000b\u0007c\u007fd\u009be")).toBe("abcde");
    expect(escapeMrkdwn("\u001b[31mALERT\u001b[0m done")).toBe("ALERT done");
    expect(escapeMrkdwn("invoice\u202egnp.exe")).toBe("invoicegnp.exe");
    expect(escapeMrkdwn("\u2066a\u2069\u202ab\u202c\u200bc\ufeff")).toBe("abc");
  });

  it("turns line breaks and tabs into single spaces", () => {
    expect(escapeMrkdwn("one\r\ntwo\tthree\u2028four")).toBe("one two three four");
    expect(escapeMrkdwn("  padded  ")).toBe("padded");
  });

  it("replaces lone surrogates and keeps pairs", () => {
    expect(escapeMrkdwn("a\ud83db")).toBe("a\ufffdb");
    expect(escapeMrkdwn("ok \ud83d\ude00")).toBe("ok \ud83d\ude00");
  });

  it("caps the length without cutting an entity or a surrogate pair", () => {
    expect(escapeMrkdwn("x".repeat(5000))).toHaveLength(1000);
    expect(escapeMrkdwn("x".repeat(50), 10)).toBe(`${"x".repeat(9)}\u2026`);
    expect(escapeMrkdwn("abc&&&&", 8)).toBe("abc\u2026");
    expect(escapeMrkdwn("ab<<<<", 9)).toBe("ab&lt;\u2026");
    expect(escapeMrkdwn("\ud83d\ude00".repeat(10), 4)).toBe("\ud83d\ude00\u2026");
    expect(escapeMrkdwn("anything", 0)).toBe("");
  });

  it("property: no <, >, unescaped &, control, bidi, zero-width, formatting character or lone surrogate", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const out = escapeMrkdwn(text);
        expect(out).not.toMatch(FORBIDDEN);
        expect(ampersandsEscaped(out)).toBe(true);
        expect(hasControl(out)).toBe(false);
        expect(hasLoneSurrogate(out)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: never longer than the cap, and the input survives when it fits", () => {
    fc.assert(
      fc.property(hostileString, fc.integer({ min: 0, max: 300 }), (text, max) => {
        const out = escapeMrkdwn(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(ampersandsEscaped(out)).toBe(true);
        expect(hasLoneSurrogate(out)).toBe(false);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9 .:/-]{0,100}$/), (text) => {
        expect(escapeMrkdwn(text)).toBe(text.trim().replace(/ {2,}/g, " "));
      }),
    );
  });
});

describe("sanitizeText", () => {
  it("keeps mrkdwn characters, removes what hides text", () => {
    expect(sanitizeText("<b> *x* \u202eabc\u0000")).toBe("<b> *x* abc");
  });

  it("property: no control, bidi or zero-width character and no lone surrogate", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const out = sanitizeText(text);
        expect(hasControl(out)).toBe(false);
        expect(hasLoneSurrogate(out)).toBe(false);
        expect(out).not.toMatch(/[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("truncate", () => {
  it("leaves short text alone and marks cut text", () => {
    expect(truncate("short", 10)).toBe("short");
    expect(truncate("exactly10!", 10)).toBe("exactly10!");
    expect(truncate("this is too long", 10)).toBe("this is t\u2026");
    expect(truncate("this is too long", 10, "...")).toBe("this is...");
    expect(truncate("abc", 0)).toBe("");
    expect(truncate("abcdef", 2, "...")).toBe("ab");
  });

  it("never cuts a surrogate pair", () => {
    const smile = "\ud83d\ude00";
    expect(truncate(`a${smile}${smile}`, 3)).toBe("a\u2026");
    expect(truncate(`${smile}${smile}`, 2, "")).toBe(smile);
    expect(truncate(`${smile}${smile}`, 1, "")).toBe("");
  });

  it("property: at most max code units, a prefix of the input, no lone surrogate made by the cut", () => {
    const emojiHeavy = fc
      .array(fc.constantFrom("a", "\ud83d\ude00", "\ud83d\udc4d\ud83c\udffd", "é", " "), { maxLength: 80 })
      .map((parts) => parts.join(""));
    fc.assert(
      fc.property(
        emojiHeavy,
        fc.integer({ min: 0, max: 100 }),
        fc.constantFrom("\u2026", "...", ""),
        (text, max, ell) => {
          const out = truncate(text, max, ell);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(hasLoneSurrogate(out)).toBe(false);
          const body = out.length < text.length && out.endsWith(ell) ? out.slice(0, out.length - ell.length) : out;
          expect(text.startsWith(body)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
