/** The SSM client and GetParameters, by name (see @eks-responder/core/aws/ec2.ts for why not the package namespace). */
export { GetParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
