/**
 * SSM GetParameters answered from a map, as AWS answers it: the names found in `Parameters`, the others in
 * `InvalidParameters` (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameters.html). The
 * respond function reads its policy and kill switch in one such call.
 */
export function getParametersFrom(values: ReadonlyMap<string, string>) {
  return (input: { Names?: string[] }) => ({
    Parameters: (input.Names ?? []).flatMap((Name) => {
      const Value = values.get(Name);
      return Value === undefined ? [] : [{ Name, Value }];
    }),
    InvalidParameters: (input.Names ?? []).filter((n) => !values.has(n)),
  });
}
