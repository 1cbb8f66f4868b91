using System.Text.Json.Nodes;

namespace Intriguing.Tests.Reporting;

/// <summary>
/// A validator for the subset of JSON Schema (2020-12) that docs/report.schema.json uses: <c>$ref</c> to the document's own
/// <c>$defs</c>, <c>type</c>, <c>enum</c>, <c>required</c>, <c>properties</c>, <c>additionalProperties</c>, <c>items</c>,
/// <c>minLength</c> and <c>minimum</c>. Any other keyword is refused, so the schema cannot quietly rely on one it ignores.
/// </summary>
internal sealed class TinyJsonSchema(JsonObject root)
{
    private static readonly HashSet<string> Annotations = ["$schema", "$id", "title", "description", "$defs"];
    private static readonly HashSet<string> Keywords = ["$ref", "type", "enum", "required", "properties", "additionalProperties", "items", "minLength", "minimum"];

    public static TinyJsonSchema Load(string path) => new((JsonObject)JsonNode.Parse(File.ReadAllText(path))!);

    /// <summary>Every way <paramref name="instance"/> breaks the schema, as "path: problem" lines; empty when it is valid.</summary>
    public IReadOnlyList<string> Validate(JsonNode? instance)
    {
        var errors = new List<string>();
        Check(root, instance, "$", errors);
        return errors;
    }

    private void Check(JsonObject schema, JsonNode? instance, string path, List<string> errors)
    {
        foreach (string keyword in schema.Select(entry => entry.Key).Where(key => !Annotations.Contains(key) && !Keywords.Contains(key)))
        {
            throw new NotSupportedException($"schema keyword \"{keyword}\" at {path} is not supported by the test's validator");
        }
        if (schema["$ref"] is JsonValue reference)
        {
            Check(Resolve(reference.GetValue<string>()), instance, path, errors);
        }
        if (schema["type"] is JsonNode type)
        {
            var allowed = type is JsonArray list ? list.Select(item => item!.GetValue<string>()).ToList() : [type.GetValue<string>()];
            if (!allowed.Any(name => IsType(instance, name)))
            {
                errors.Add($"{path}: expected {string.Join(" or ", allowed)}, found {Describe(instance)}");
                return;
            }
        }
        if (schema["enum"] is JsonArray values && !values.Any(value => JsonNode.DeepEquals(value, instance)))
        {
            errors.Add($"{path}: {Describe(instance)} is not one of {values.ToJsonString()}");
        }
        if (schema["minLength"] is JsonValue minLength && instance is JsonValue text && text.TryGetValue(out string? value) && value.Length < minLength.GetValue<int>())
        {
            errors.Add($"{path}: shorter than {minLength.GetValue<int>()} characters");
        }
        if (schema["minimum"] is JsonValue minimum && instance is JsonValue number && number.TryGetValue(out double numeric) && numeric < minimum.GetValue<double>())
        {
            errors.Add($"{path}: {numeric} is below the minimum {minimum.GetValue<double>()}");
        }
        if (instance is JsonObject members)
        {
            foreach (var name in (schema["required"] as JsonArray ?? []).Select(item => item!.GetValue<string>()).Where(name => !members.ContainsKey(name)))
            {
                errors.Add($"{path}: required field \"{name}\" is missing");
            }
            var properties = schema["properties"] as JsonObject;
            foreach (var (name, member) in members)
            {
                if (properties is not null && properties[name] is JsonObject propertySchema)
                {
                    Check(propertySchema, member, $"{path}.{name}", errors);
                }
                else if (schema["additionalProperties"] is JsonNode additional)
                {
                    if (additional is JsonObject additionalSchema)
                    {
                        Check(additionalSchema, member, $"{path}.{name}", errors);
                    }
                    else if (!additional.GetValue<bool>())
                    {
                        errors.Add($"{path}: field \"{name}\" is not allowed");
                    }
                }
            }
        }
        if (instance is JsonArray items && schema["items"] is JsonObject itemSchema)
        {
            for (int index = 0; index < items.Count; index++)
            {
                Check(itemSchema, items[index], $"{path}[{index}]", errors);
            }
        }
    }

    private JsonObject Resolve(string reference)
    {
        if (!reference.StartsWith("#/", StringComparison.Ordinal))
        {
            throw new NotSupportedException($"only references into the schema itself are supported, not \"{reference}\"");
        }
        JsonNode node = root;
        foreach (string part in reference[2..].Split('/'))
        {
            node = node[part] ?? throw new InvalidOperationException($"schema reference \"{reference}\" points nowhere");
        }
        return (JsonObject)node;
    }

    private static bool IsType(JsonNode? instance, string type) => type switch
    {
        "null" => instance is null,
        "object" => instance is JsonObject,
        "array" => instance is JsonArray,
        "string" => instance is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.String,
        "boolean" => instance is JsonValue value && value.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
        "number" => instance is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number,
        "integer" => instance is JsonValue value && value.GetValueKind() == System.Text.Json.JsonValueKind.Number && value.TryGetValue(out double number) && Math.Floor(number) == number,
        _ => throw new NotSupportedException($"schema type \"{type}\" is not supported by the test's validator"),
    };

    private static string Describe(JsonNode? instance) => instance is null ? "null" : instance.ToJsonString();
}
