/** The kinds of resource an exemption tag can be limited to (`resources`). */
export const EXEMPT_RESOURCES = ["security-group"] as const;
export type ExemptResource = (typeof EXEMPT_RESOURCES)[number];

/**
 * One exemption tag of the policy: a key, and a value or any value; `resources` limits it to those kinds of resource
 * (absent: every resource it is found on).
 */
export interface ExemptTag {
  key: string;
  value?: string | undefined;
  resources?: readonly ExemptResource[] | undefined;
}

/**
 * The first exemption tag `tags` carries, written `key` or `key=value`; undefined when it carries none. `resource` is
 * the kind of resource the tags are on: a tag limited to other kinds (`resources`) does not count; without it, only
 * tags that apply to every resource do.
 */
export function exemptTagIn(
  tags: Readonly<Record<string, string>> | undefined,
  exempt: readonly ExemptTag[],
  resource?: ExemptResource,
): string | undefined {
  if (!tags) return undefined;
  for (const tag of exempt) {
    if (tag.resources !== undefined && (resource === undefined || !tag.resources.includes(resource))) continue;
    if (Object.hasOwn(tags, tag.key) && (tag.value === undefined || tag.value === tags[tag.key])) {
      return tag.value === undefined ? tag.key : `${tag.key}=${tag.value}`;
    }
  }
  return undefined;
}
