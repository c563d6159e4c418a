/**
 * The EC2 client and the commands the actions send, re-exported by name. The actions and clients.ts import this module
 * with `await import()`, never `@aws-sdk/client-ec2` itself: a dynamic import of the package needs its whole
 * namespace, so a bundler keeps every command, model, waiter and paginator of EC2 (bench/time-to-fix.ts measures the
 * first fix, which waits for this chunk); by name, esbuild keeps these. What stays is the client and the EC2 schemas
 * file, which esbuild cannot shake: its declarations use computed keys (`{ [_xN]: … }`), which it does not treat as free
 * of side effects.
 */
export {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ModifySecurityGroupRulesCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
} from "@aws-sdk/client-ec2";
