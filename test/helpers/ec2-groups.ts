import type { DescribeSecurityGroupsCommandInput, DescribeSecurityGroupsCommandOutput } from "@aws-sdk/client-ec2";

/**
 * A DescribeSecurityGroups answer for any group asked, with the same tags on each (none by default): what the
 * revoke-ingress action reads for the policy's exemption tags before it revokes. For aws-sdk-client-mock's
 * `ec2.on(DescribeSecurityGroupsCommand).callsFake(liveGroups())`.
 */
export function liveGroups(
  tags: Record<string, string> = {},
): (input: DescribeSecurityGroupsCommandInput) => DescribeSecurityGroupsCommandOutput {
  const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  return (input) => ({
    $metadata: { httpStatusCode: 200 },
    SecurityGroups: (input.GroupIds ?? []).map((GroupId) => ({ GroupId, Tags })),
  });
}
