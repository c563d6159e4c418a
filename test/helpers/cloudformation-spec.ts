/**
 * Checks a CloudFormation template against the CloudFormation resource specification as the AWS CDK ships it
 * (@aws-cdk/aws-service-spec, built from the CloudFormation registry schemas): every resource type exists, every
 * property is one of that type's (nested types included), required properties are present, values have the type
 * the specification gives, and the template's references resolve (Ref, Fn::GetAtt and its attributes, Fn::Sub
 * variables, Conditions). Hand-written here: the walk over the template; the data is the package's.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html
 */
import { loadAwsServiceSpec } from "@aws-cdk/aws-service-spec";
import type { Property, PropertyType, SpecDatabase } from "@aws-cdk/service-spec-types";

let database: Promise<SpecDatabase> | undefined;

function spec(): Promise<SpecDatabase> {
  database ??= loadAwsServiceSpec();
  return database;
}

type Json = unknown;

interface Template {
  Parameters?: Record<string, { Type?: string }>;
  Conditions?: Record<string, Json>;
  Resources?: Record<string, { Type?: string; Condition?: string; Properties?: Record<string, Json> }>;
  Outputs?: Record<string, { Condition?: string; Value?: Json }>;
}

/** Pseudo parameters: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html */
const PSEUDO = new Set([
  "AWS::AccountId",
  "AWS::NotificationARNs",
  "AWS::NoValue",
  "AWS::Partition",
  "AWS::Region",
  "AWS::StackId",
  "AWS::StackName",
  "AWS::URLSuffix",
]);

const PARAMETER_TYPES = new Set(["String", "Number", "List<Number>", "CommaDelimitedList"]);

function isRecord(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** An intrinsic function (one key, `Ref`, `Condition` or `Fn::…`): its value is known at deploy time only. */
function isIntrinsic(value: Json): boolean {
  if (!isRecord(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "Ref" || keys[0] === "Condition" || (keys[0] ?? "").startsWith("Fn::"));
}

export async function validateTemplate(template: Template): Promise<string[]> {
  const db = await spec();
  const errors: string[] = [];
  const parameters = template.Parameters ?? {};
  const resources = template.Resources ?? {};
  const conditions = template.Conditions ?? {};
  const attributes = new Map<string, Set<string>>();

  for (const [name, p] of Object.entries(parameters)) {
    if (!PARAMETER_TYPES.has(p.Type ?? "") && !(p.Type ?? "").startsWith("AWS::")) {
      errors.push(`Parameters.${name}: type ${p.Type} is not a parameter type`);
    }
  }

  const checkType = (path: string, type: PropertyType, value: Json): void => {
    if (isIntrinsic(value)) return;
    switch (type.type) {
      case "string":
      case "date-time":
        if (typeof value !== "string") errors.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
        return;
      case "integer":
      case "number":
        if (
          typeof value !== "number" &&
          !(typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value)))
        ) {
          errors.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
        }
        return;
      case "boolean":
        if (typeof value !== "boolean" && value !== "true" && value !== "false") {
          errors.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
        }
        return;
      case "json":
        if (!isRecord(value) && typeof value !== "string")
          errors.push(`${path}: expected JSON, got ${JSON.stringify(value)}`);
        return;
      case "array":
        if (!Array.isArray(value)) errors.push(`${path}: expected a list`);
        else for (const [i, item] of value.entries()) checkType(`${path}[${i}]`, type.element, item);
        return;
      case "map":
        if (!isRecord(value)) errors.push(`${path}: expected a map`);
        else for (const [k, v] of Object.entries(value)) checkType(`${path}.${k}`, type.element, v);
        return;
      case "union": {
        const before = errors.length;
        const ok = type.types.some((t) => {
          const mark = errors.length;
          checkType(path, t, value);
          const fits = errors.length === mark;
          errors.length = mark;
          return fits;
        });
        errors.length = before;
        if (!ok) errors.push(`${path}: ${JSON.stringify(value)} fits none of the specification's types`);
        return;
      }
      case "tag":
        if (!isRecord(value) || !("Key" in value) || !("Value" in value)) errors.push(`${path}: expected a tag`);
        return;
      case "ref": {
        const definition = db.get("typeDefinition", type.reference.$ref);
        if (!isRecord(value)) errors.push(`${path}: expected a ${definition.name} object`);
        else checkProperties(path, definition.properties, value);
        return;
      }
      default:
        return;
    }
  };

  const checkProperties = (path: string, properties: Record<string, Property>, value: Record<string, Json>): void => {
    for (const [key, v] of Object.entries(value)) {
      const property = properties[key];
      if (!property) errors.push(`${path}.${key}: not a property the specification knows`);
      else checkType(`${path}.${key}`, property.type, v);
    }
    for (const [key, property] of Object.entries(properties)) {
      if (property.required && !(key in value)) errors.push(`${path}.${key}: required, missing`);
    }
  };

  for (const [name, resource] of Object.entries(resources)) {
    const found = db.lookup("resource", "cloudFormationType", "equals", resource.Type ?? "");
    const definition = found[0];
    if (!definition) {
      errors.push(`Resources.${name}: ${resource.Type} is not a resource type of the specification`);
      continue;
    }
    attributes.set(name, new Set(Object.keys(definition.attributes)));
    if (resource.Condition !== undefined && !(resource.Condition in conditions)) {
      errors.push(`Resources.${name}: condition ${resource.Condition} is not defined`);
    }
    checkProperties(`Resources.${name}.Properties`, definition.properties, resource.Properties ?? {});
  }

  const known = (name: string) => name in parameters || name in resources || PSEUDO.has(name);
  const walk = (path: string, value: Json): void => {
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(`${path}[${i}]`, v);
      return;
    }
    if (!isRecord(value)) return;
    for (const [key, v] of Object.entries(value)) {
      if (key === "Ref" && typeof v === "string" && !known(v)) errors.push(`${path}: Ref ${v} names nothing`);
      if (key === "Condition" && typeof v === "string" && !(v in conditions)) {
        errors.push(`${path}: condition ${v} is not defined`);
      }
      if (key === "Fn::GetAtt" && Array.isArray(v)) {
        const [resource, attribute] = v as [string, string];
        if (!attributes.get(resource)?.has(attribute)) errors.push(`${path}: ${resource}.${attribute} is no attribute`);
      }
      if (key === "Fn::Sub" && typeof v === "string") {
        for (const match of v.matchAll(/\$\{([^!}][^}]*)\}/g)) {
          const variable = match[1] ?? "";
          const [resource, attribute] = variable.split(".");
          const ok = attribute ? attributes.get(resource ?? "")?.has(attribute) : known(variable);
          if (!ok) errors.push(`${path}: Fn::Sub variable \${${variable}} names nothing`);
        }
      }
      walk(`${path}.${key}`, v);
    }
  };
  walk("Conditions", conditions);
  walk("Resources", resources);
  walk("Outputs", template.Outputs ?? {});
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    if (output.Condition !== undefined && !(output.Condition in conditions)) {
      errors.push(`Outputs.${name}: condition ${output.Condition} is not defined`);
    }
  }
  return errors;
}
