/** One exemption tag of the policy: a key, and a value or any value. */
export interface ExemptTag {
  key: string;
  value?: string | undefined;
}

/** The first exemption tag `tags` carries, written `key` or `key=value`; undefined when it carries none. */
export function exemptTagIn(
  tags: Readonly<Record<string, string>> | undefined,
  exempt: readonly ExemptTag[],
): string | undefined {
  if (!tags) return undefined;
  for (const tag of exempt) {
    if (Object.hasOwn(tags, tag.key) && (tag.value === undefined || tag.value === tags[tag.key])) {
      return tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
    }
  }
  return undefined;
}
