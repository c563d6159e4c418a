import { describe, expect, it } from "vitest";
import { sameCidr } from "../../../packages/core/src/net/cidr.ts";

describe("sameCidr", () => {
  it.each([
    ["::/0", "0::0/0"],
    ["::/0", "0:0:0:0:0:0:0:0/0"],
    ["::/0", "::/00"],
    ["2001:db8::/32", "2001:DB8:0::/32"],
    ["0.0.0.0/0", "0.0.0.0/00"],
    ["10.0.0.0/8", "10.0.0.0/8"],
  ])("%s and %s name the same range", (a, b) => {
    expect(sameCidr(a, b)).toBe(true);
    expect(sameCidr(b, a)).toBe(true);
  });

  it.each([
    ["::/0", "::/1"],
    ["::/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db9::/32"],
    ["10.0.0.0/8", "10.0.0.0/16"],
    ["::/0", "not a cidr"],
    ["", "::/0"],
    ["fe80::1%eth0/128", "fe80::1/128"],
  ])("%s and %s do not", (a, b) => {
    expect(sameCidr(a, b)).toBe(false);
    expect(sameCidr(b, a)).toBe(false);
  });
});
