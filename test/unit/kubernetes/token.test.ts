import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { EKS_TOKEN_PREFIX, EksTokenError, eksToken, stsHost } from "../../../packages/core/src/kubernetes/token.ts";

/**
 * The EKS token's shape, against fixed credentials and a fixed time. The signature is recomputed here, apart from the
 * SDK's signer, from the SigV4 steps of the IAM guide (canonical request, string to sign, signing key):
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
 */
const CREDENTIALS = {
  accessKeyId: "AKIDEXAMPLE",
  secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
  sessionToken: "FwoGZXIvYXdzEXAMPLE/token+with=chars",
};
const NOW = new Date("2026-03-04T05:06:07Z");

function decode(token: string): URL {
  expect(token.startsWith(EKS_TOKEN_PREFIX)).toBe(true);
  const body = token.slice(EKS_TOKEN_PREFIX.length);
  expect(body).toMatch(/^[A-Za-z0-9_-]+$/); // base64url, no padding
  return new URL(Buffer.from(body, "base64url").toString("utf8"));
}

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text, "utf8").digest();
/** RFC 3986 escaping, as SigV4's canonical query wants it. */
const uriEscape = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);

/** The SigV4 signature of a presigned GET with the headers `host` and `x-k8s-aws-id`, computed by hand. */
function expectedSignature(url: URL, cluster: string, region: string): string {
  const params = [...url.searchParams.entries()].filter(([k]) => k !== "X-Amz-Signature");
  const query = params
    .map(([k, v]) => [uriEscape(k), uriEscape(v)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const canonical = [
    "GET",
    "/",
    query,
    `host:${url.host}\nx-k8s-aws-id:${cluster}\n`,
    "host;x-k8s-aws-id",
    sha256(""),
  ].join("\n");
  const date = url.searchParams.get("X-Amz-Date") ?? "";
  const scope = `${date.slice(0, 8)}/${region}/sts/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, sha256(canonical)].join("\n");
  const key = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, date.slice(0, 8)), region), "sts"),
    "aws4_request",
  );
  return createHmac("sha256", key).update(toSign, "utf8").digest("hex");
}

describe("eksToken", () => {
  it("is k8s-aws-v1. + base64url of a presigned GetCallerIdentity URL on the regional STS endpoint", async () => {
    // act
    const url = decode(
      await eksToken({ cluster: "prod-eks", region: "eu-west-1", credentials: CREDENTIALS, now: NOW }),
    );

    // assess
    expect(url.protocol).toBe("https:");
    expect(url.host).toBe("sts.eu-west-1.amazonaws.com");
    expect(url.pathname).toBe("/");
    expect(Object.fromEntries(url.searchParams)).toEqual({
      Action: "GetCallerIdentity",
      Version: "2011-06-15",
      "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
      "X-Amz-Credential": "AKIDEXAMPLE/20260304/eu-west-1/sts/aws4_request",
      "X-Amz-Date": "20260304T050607Z",
      "X-Amz-Expires": "60",
      "X-Amz-Security-Token": CREDENTIALS.sessionToken,
      "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
      "X-Amz-Signature": expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it("carries a signature that SigV4 computed by hand with the same inputs reproduces", async () => {
    const url = decode(
      await eksToken({ cluster: "prod-eks", region: "eu-west-1", credentials: CREDENTIALS, now: NOW }),
    );
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, "prod-eks", "eu-west-1"));
  });

  it("is the same for the same inputs, and another cluster name signs another token", async () => {
    const input = { cluster: "prod-eks", region: "eu-west-1", credentials: CREDENTIALS, now: NOW };
    const a = await eksToken(input);
    const again = await eksToken(input);
    const other = decode(await eksToken({ ...input, cluster: "prod-eks2" }));

    expect(again).toBe(a);
    expect(other.searchParams.get("X-Amz-Signature")).not.toBe(decode(a).searchParams.get("X-Amz-Signature"));
    // The cluster name is in no query parameter: only the signature binds the token to it.
    expect(other.search).not.toContain("prod-eks2");
    expect(other.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(other, "prod-eks2", "eu-west-1"));
  });

  it("has no X-Amz-Security-Token for long-term credentials", async () => {
    const { sessionToken: _, ...longTerm } = CREDENTIALS;
    const url = decode(await eksToken({ cluster: "c1", region: "us-east-1", credentials: longTerm, now: NOW }));
    expect(url.searchParams.has("X-Amz-Security-Token")).toBe(false);
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, "c1", "us-east-1"));
  });

  it.each([
    ["cn-north-1", "sts.cn-north-1.amazonaws.com.cn"],
    ["cn-northwest-1", "sts.cn-northwest-1.amazonaws.com.cn"],
    ["us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"],
    ["us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov"],
    ["eusc-de-east-1", "sts.eusc-de-east-1.amazonaws.eu"],
  ])("signs for %s on its partition's STS host %s", async (region, host) => {
    const url = decode(await eksToken({ cluster: "c1", region, credentials: CREDENTIALS, now: NOW }));
    expect(url.host).toBe(host);
    expect(await stsHost(region)).toBe(host);
    expect(url.searchParams.get("X-Amz-Credential")).toBe(`AKIDEXAMPLE/20260304/${region}/sts/aws4_request`);
    expect(url.searchParams.get("X-Amz-Signature")).toBe(expectedSignature(url, "c1", region));
  });

  it("refuses a region of no known shape and a name EKS never gives a cluster, with a typed error", async () => {
    const base = { credentials: CREDENTIALS, now: NOW };
    await expect(eksToken({ ...base, cluster: "c1", region: "sts.evil.example" })).rejects.toBeInstanceOf(
      EksTokenError,
    );
    await expect(eksToken({ ...base, cluster: "c1\nx-other: 1", region: "eu-west-1" })).rejects.toMatchObject({
      code: "KUBERNETES.TOKEN_INPUT",
    });
    await expect(eksToken({ ...base, cluster: "x".repeat(101), region: "eu-west-1" })).rejects.toBeInstanceOf(
      EksTokenError,
    );
  });
});
