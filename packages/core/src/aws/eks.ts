/** The EKS client and the commands the project sends, by name: imported instead of `@aws-sdk/client-eks` for the reason aws/ec2.ts gives. */
export {
  AssociateAccessPolicyCommand,
  CreateAccessEntryCommand,
  DeleteAccessEntryCommand,
  DescribeAccessEntryCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
  DescribeUpdateCommand,
  DisassociateAccessPolicyCommand,
  EKSClient,
  ListAssociatedAccessPoliciesCommand,
  UpdateAccessEntryCommand,
  UpdateClusterConfigCommand,
  UpdateNodegroupVersionCommand,
} from "@aws-sdk/client-eks";
