/** EC2's tag list (`[{Key, Value}]`, as Describe* calls return it) as a record; an entry without a key is skipped. */
export function ec2TagRecord(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): Record<string, string> {
  return Object.fromEntries((tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? ""]] : [])));
}
