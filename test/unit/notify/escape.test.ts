import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  defang,
  emailSafeJson,
  escapeEmailText,
  escapeHtml,
  escapeHtmlAttribute,
  escapeMrkdwn,
  escapePlainText,
  escapeSnsSubject,
  escapeTerminal,
  sanitizeText,
  terminalSafeJson,
  trimEscaped,
  trimNote,
  truncate,
} from "../../../packages/core/src/notify/escape.ts";
import { hiddenCharacters, linksIn } from "../../helpers/texts.ts";

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

/** Every `&` starts one of the entities the Slack escaping writes. */
function ampersandsEscaped(text: string): boolean {
  return !/&(?!amp;|lt;|gt;)/.test(text);
}

/** Strings that favour the characters that matter: markup, controls, bidi, invisibles, surrogates, links. */
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
  ".",
  "/",
  ":",
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\u0007",
  "\u001b",
  "\u007f",
  "\u0085",
  "\u009b",
  "\u00ad",
  "\u061c",
  "\u180e",
  "\u200b",
  "\u200d",
  "\u200e",
  "\u200f",
  "\u202a",
  "\u202e",
  "\u2028",
  "\u2060",
  "\u2066",
  "\u2069",
  "\u3002",
  "\ufe0f",
  "\ufeff",
  "\u{e0041}",
  "\u{e007f}",
  "\ud83d",
  "\ude00",
  "\ud83d\ude00",
  "\uff0a",
  "\uff0e",
  "\uff61",
  "\ufe52",
  "\u2024",
  "\u2025",
  "\uff3f",
  "\uff40",
  "http://",
  "https://",
  "www.",
  "mailto:",
  "example.com",
  "evil.zip",
  "com",
  "a",
  " ",
  "é",
);
const hostileString = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.array(hostileChar, { maxLength: 120 }).map((chars) => chars.join("")),
);

describe("sanitizeText", () => {
  it("shows hiding characters as [U+XXXX] instead of deleting them", () => {
    expect(sanitizeText("a\u0000b\u0007c\u007fd\u009be")).toBe("a[U+0000]b[U+0007]c[U+007F]d[U+009B]e");
    expect(sanitizeText("invoice\u202egnp.exe")).toBe("invoice[U+202E]gnp.exe");
    expect(sanitizeText("\u2066a\u2069\u202ab\u202c\u200bc\ufeff\u200d\u2060\u180e\u061c\u200e\u200f")).toBe(
      "[U+2066]a[U+2069][U+202A]b[U+202C][U+200B]c[U+FEFF][U+200D][U+2060][U+180E][U+061C][U+200E][U+200F]",
    );
    expect(sanitizeText("tag\u{e0041}\u{e007f}")).toBe("tag[U+E0041][U+E007F]");
  });

  it("shows an ANSI escape sequence as text: the ESC visible, nothing run", () => {
    expect(sanitizeText("\u001b[31mALERT\u001b[0m done")).toBe("[U+001B][31mALERT[U+001B][0m done");
  });

  it("turns line breaks, tabs and other spaces into one space and trims", () => {
    expect(sanitizeText("one\r\ntwo\tthree\u2028four\u0085five\u00a0six")).toBe("one two three four five six");
    expect(sanitizeText("  padded  ")).toBe("padded");
  });

  it("replaces lone surrogates and keeps pairs", () => {
    expect(sanitizeText("a\ud83db")).toBe("a\ufffdb");
    expect(sanitizeText("ok \ud83d\ude00")).toBe("ok \ud83d\ude00");
  });

  it("keeps markup characters: escaping them is each format's job", () => {
    expect(sanitizeText("<b> *x* & y")).toBe("<b> *x* & y");
  });

  it("property: no hiding character, no line break and no lone surrogate", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const out = sanitizeText(text);
        expect(hiddenCharacters(out)).toEqual([]);
        expect(hasLoneSurrogate(out)).toBe(false);
        expect(out).not.toMatch(/[\n\r\t]/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("defang", () => {
  it("defangs schemes, host names, e-mail addresses and www names", () => {
    expect(defang("see https://evil.example/login now")).toBe("see hxxps://evil[.]example/login now");
    expect(defang("HTTP://x.y")).toBe("HxxP://x[.]y");
    expect(defang("ftp://files.example.org/a")).toBe("ftp[:]//files[.]example[.]org/a");
    expect(defang("mailto:alice@corp.io")).toBe("mailto[:]alice@corp[.]io");
    expect(defang("bare console.aws.amazon.com.evil.zip")).toBe("bare console[.]aws[.]amazon[.]com[.]evil[.]zip");
    expect(defang("www.intranet")).toBe("www[.]intranet");
    // A host starts after a symbol, as link finders start one: `<www.` and `^www.` are www names too.
    expect(defang("<www.intranet ^WWW.corp")).toBe("<www[.]intranet ^WWW[.]corp");
    expect(defang("ｅｖｉｌ．ｃｏｍ and evil。com")).toBe("ｅｖｉｌ[.]ｃｏｍ and evil[.]com");
    expect(defang("punycode xn--80ak6aa92e.xn--p1ai")).toBe("punycode xn--80ak6aa92e[.]xn--p1ai");
  });

  it("never cuts a dotted name, so a cut cannot make a host name (aws.ec2 cut to aws.ec)", () => {
    expect(escapeMrkdwn("source aws.ec2", 12)).toBe("source \u2026");
    expect(escapeSnsSubject(`${"s".repeat(95)} aws.ec2x`)).toBe(`${"s".repeat(95)} ...`);
    expect(trimEscaped(`${"b".repeat(10)} aws.ec2`, 16)).toBe(`${"b".repeat(10)} \u2026`);
  });

  it("leaves versions, IP addresses, sentence dots and names that are no host alone", () => {
    for (const text of [
      "aws-cli/2.15.30 md/distrib#ubuntu.22 Mozilla/5.0",
      "from 198.51.100.14 and 0.0.0.0/0",
      "aws.ec2 AuthorizeSecurityGroupIngress",
      "CryptoCurrency:Runtime/BitcoinTool.B",
      "granted on a Kubernetes cluster.",
      "gnp.exe",
    ])
      expect(defang(text)).toBe(text);
  });

  it("stays linear on long input", () => {
    const started = performance.now();
    defang("a.".repeat(100_000));
    defang("T".repeat(200_000));
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("property: nothing the link finder would auto-link is left", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        expect(linksIn(defang(sanitizeText(text)))).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });
});

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
    expect(escapeMrkdwn("<https://evil.example|click>")).toBe("&lt;hxxps://evil[.]example|click&gt;");
    expect(escapeMrkdwn("login at console.aws.amazon.com.evil.zip")).toBe(
      "login at console[.]aws[.]amazon[.]com[.]evil[.]zip",
    );
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

  it("caps the length with a visible note, never cutting an entity or a surrogate pair", () => {
    const big = escapeMrkdwn("x".repeat(5000));
    expect(big).toHaveLength(1000);
    expect(big.endsWith("\u2026 (trimmed: 4,034 more characters)")).toBe(true);
    expect(escapeMrkdwn("x".repeat(50), 10)).toBe(`${"x".repeat(9)}\u2026`);
    expect(escapeMrkdwn("abc&&&&", 8)).toBe("abc\u2026");
    expect(escapeMrkdwn("ab<<<<", 9)).toBe("ab&lt;\u2026");
    expect(escapeMrkdwn("\ud83d\ude00".repeat(10), 4)).toBe("\ud83d\ude00\u2026");
    expect(escapeMrkdwn("anything", 0)).toBe("");
  });

  it("defangs a host name that a look-alike completes (`*.com` would become the link `∗.com`)", () => {
    expect(escapeMrkdwn("*.com")).toBe("\u2217[.]com");
    expect(escapeMrkdwn("_.com")).toBe("\u02cd[.]com");
    expect(escapeMrkdwn("*.*.evil.zip")).toBe("\u2217[.]\u2217[.]evil[.]zip");
    for (const text of ["*.com", "_.com", "`.com", "~.com", "x_*.io"]) expect(linksIn(escapeMrkdwn(text))).toEqual([]);
  });

  it("property: no markup, unescaped &, hidden character, lone surrogate or auto-link", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const out = escapeMrkdwn(text);
        expect(out).not.toMatch(/[<>*_~`]/);
        expect(ampersandsEscaped(out)).toBe(true);
        expect(hiddenCharacters(out, { softHyphenBeforeQuote: true })).toEqual([]);
        expect(hasLoneSurrogate(out)).toBe(false);
        expect(linksIn(out)).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: never longer than the cap, and plain text survives when it fits", () => {
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
      fc.property(fc.stringMatching(/^[A-Za-z0-9 /-]{0,100}$/), (text) => {
        expect(escapeMrkdwn(text)).toBe(text.trim().replace(/ {2,}/g, " "));
      }),
    );
  });
});

describe("escapePlainText", () => {
  it("entity-encodes & < > and keeps the formatting characters", () => {
    expect(escapePlainText("<!here> *a* & b\u202e")).toBe("&lt;!here&gt; *a* &amp; b[U+202E]");
  });
});

describe("escapeSnsSubject", () => {
  it("is printable ASCII on one line: accents folded, others as ?, < > as ( ), hiding characters shown", () => {
    expect(escapeSnsSubject("Clúster ünïcode ✓ <x>\r\n\tdone")).toBe("Cluster unicode ? (x) done");
    expect(escapeSnsSubject("a\u202eb\u0007c www.evil.com")).toBe("a[U+202E]b[U+0007]c www[.]evil[.]com");
  });

  it("keeps 99 characters and cuts the 100th with ...", () => {
    expect(escapeSnsSubject("s".repeat(99))).toBe("s".repeat(99));
    expect(escapeSnsSubject("s".repeat(100))).toBe(`${"s".repeat(96)}...`);
    // Multi-byte characters count as characters (and become ASCII first).
    expect(escapeSnsSubject("é".repeat(99))).toBe("e".repeat(99));
    expect(escapeSnsSubject("€".repeat(100))).toBe(`${"?".repeat(96)}...`);
  });

  it("defangs what folding to ASCII makes a link: dots of U+FE52, U+2024 and U+2488, a dropped accent", () => {
    expect(escapeSnsSubject("example\ufe52com")).toBe("example[.]com");
    expect(escapeSnsSubject("example\u2024com")).toBe("example[.]com");
    expect(escapeSnsSubject("x\u2488com")).toBe("x1[.]com");
    expect(linksIn(escapeSnsSubject("login at console\ufe52aws\u2024amazon\ufe52com"))).toEqual([]);
    // The accent goes before the defanging: `www.aé` is no link, `www.ae` is one.
    expect(escapeSnsSubject("<www.a\u00e9")).toBe("(www[.]ae");
  });

  it("property: printable ASCII, one line, under 100 characters, no auto-link", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const subject = escapeSnsSubject(`eks-responder ${text}`);
        expect(subject).toMatch(/^[\x20-\x7e]{1,99}$/);
        expect(linksIn(subject)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("escapeEmailText", () => {
  it("sanitises and defangs, and leaves < > & as they are in a plain-text e-mail", () => {
    expect(escapeEmailText("<b>&\u202e https://x.example.com\r\nOutcome: resolved")).toBe(
      "<b>&[U+202E] hxxps://x[.]example[.]com Outcome: resolved",
    );
  });
});

describe("emailSafeJson", () => {
  it("writes <, >, &, hiding characters and link parts as \\u escapes", () => {
    const out = emailSafeJson({ ua: "<!here> & https://evil.example.com \u202e\u{e0041}" });
    expect(out).toContain(
      "\\u003c!here\\u003e \\u0026 https\\u003a//evil\\u002eexample\\u002ecom \\u202e\\udb40\\udc41",
    );
  });

  it("looks for host names after writing a scheme's colon as \\u003a, whose letters could end a host name", () => {
    // `mailto\u003a.com` would show the host `u003a.com` to a link finder.
    expect(emailSafeJson("mailto:.com")).toBe('"mailto\\u003a\\u002ecom"');
    expect(emailSafeJson("https:.evil.zip")).toBe('"https\\u003a\\u002eevil\\u002ezip"');
    expect(linksIn(emailSafeJson({ a: "mailto:.com", b: "http:.io" }))).toEqual([]);
  });

  it("property: the same JSON value, with nothing hidden and nothing to auto-link", () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostileString, (value, s) => {
        const doc = { value, s };
        const out = emailSafeJson(doc);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
        expect(out).not.toMatch(/[<>&]/);
        expect(hiddenCharacters(out, { allowed: "\n" })).toEqual([]);
        expect(linksIn(out)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("terminalSafeJson", () => {
  it("writes C1 controls, DEL, bidi and invisible characters as \\u escapes, and keeps links and markup", () => {
    expect(terminalSafeJson({ u: "a\u009b2J\u007f\u202e\u200b\u2028 https://x.example <b>" })).toBe(
      '{\n  "u": "a\\u009b2J\\u007f\\u202e\\u200b\\u2028 https://x.example <b>"\n}',
    );
  });

  it("property: the same JSON value, with no hiding character but its own line breaks", () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostileString, (value, s) => {
        const doc = { value, s };
        const out = terminalSafeJson(doc);
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify(doc)));
        expect(hiddenCharacters(out, { allowed: "\n" })).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("escapeTerminal", () => {
  it("shows escape sequences and bidi controls instead of running them, and defangs links", () => {
    expect(escapeTerminal("\u001b]8;;https://evil.example\u0007x\u001b[2J\u202e")).toBe(
      "[U+001B]]8;;hxxps://evil[.]example[U+0007]x[U+001B][2J[U+202E]",
    );
  });

  it("keeps what the operator typed readable (links: keep), still without controls", () => {
    expect(escapeTerminal("events/README.md\u001b[2J", { links: "keep" })).toBe("events/README.md[U+001B][2J");
  });

  it("property: no control, bidi or invisible character and no auto-link", () => {
    fc.assert(
      fc.property(hostileString, (text) => {
        const out = escapeTerminal(text);
        expect(hiddenCharacters(out)).toEqual([]);
        expect(linksIn(out)).toEqual([]);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("escapeHtml", () => {
  it("encodes & < > \" ' after sanitising and defanging", () => {
    expect(escapeHtml(`"><script>alert('x')</script> https://evil.example.com\u202e`)).toBe(
      "&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; hxxps://evil[.]example[.]com[U+202E]",
    );
    expect(escapeHtml("oncall@example.com", 100, { links: "keep" })).toBe("oncall@example.com");
  });

  it("escapeHtmlAttribute changes nothing but the five HTML characters", () => {
    const token = "eyJ2IjoxfQ.example.com-abc_DEF";
    expect(escapeHtmlAttribute(token)).toBe(token);
    expect(escapeHtmlAttribute(`a"b'<&>`)).toBe("a&quot;b&#39;&lt;&amp;&gt;");
  });
});

describe("the capped formats (property)", () => {
  const formats = [
    { name: "escapePlainText", escape: escapePlainText, raw: /[<>\n]/, entity: /&(?!amp;|lt;|gt;)/ },
    { name: "escapeEmailText", escape: escapeEmailText, raw: /\n/, entity: undefined },
    { name: "escapeHtml", escape: escapeHtml, raw: /[<>"'\n]/, entity: /&(?!amp;|lt;|gt;|quot;|#39;)/ },
  ];
  for (const format of formats) {
    it(`${format.name}: within the cap, one line, no raw markup, hidden character or auto-link`, () => {
      fc.assert(
        fc.property(hostileString, fc.integer({ min: 0, max: 200 }), (text, max) => {
          const out = format.escape(text, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(out).not.toMatch(format.raw);
          if (format.entity) expect(format.entity.test(out)).toBe(false);
          expect(hiddenCharacters(out)).toEqual([]);
          expect(linksIn(out)).toEqual([]);
        }),
        { numRuns: 1000 },
      );
    });
  }
});

describe("trimEscaped", () => {
  it("keeps text at the limit and trims one over it with the note, never inside an entity or a link", () => {
    const at = "a".repeat(3000);
    expect(trimEscaped(at, 3000)).toBe(at);
    const over = trimEscaped(`${"a".repeat(2999)}&amp;`, 3000);
    expect(over.length).toBeLessThanOrEqual(3000);
    const [, kept = "", more = "0"] = /^(a*)\u2026 \(trimmed: (\d+) more characters\)$/.exec(over) ?? [];
    expect(kept.length + Number(more)).toBe(3000);
    expect(over).toBe(`${kept}${trimNote(Number(more))}`);
    const link = "<https://eu-west-1.console.aws.amazon.com/eks/home|prod>";
    const cut = trimEscaped(`${"b".repeat(2970)}${link}`, 3000);
    expect(cut).not.toContain("<");
    expect(cut.length).toBeLessThanOrEqual(3000);
  });

  it("property: at most max code units; the kept start is a prefix made of whole units", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "&amp;", "&lt;", "\ud83d\ude00", "<https://x|y>", "é"), { maxLength: 200 }),
        fc.integer({ min: 0, max: 400 }),
        (units, max) => {
          const text = units.join("");
          const out = trimEscaped(text, max);
          expect(out.length).toBeLessThanOrEqual(max);
          expect(hasLoneSurrogate(out)).toBe(false);
          const kept = out.replace(/\u2026(?: \(trimmed: [\d,]+ more characters?\))?$/, "");
          expect(text.startsWith(kept)).toBe(true);
          expect(/&(?:a|am|amp|l|lt)$/.test(kept) || /<[^>]*$/.test(kept)).toBe(false);
        },
      ),
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
});
