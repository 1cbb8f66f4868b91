using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Intriguing.IO;

namespace Intriguing.Sharding;

/// <summary>One shard's part as read back: where it came from, its manifest and its command's payload.</summary>
public sealed record ShardPart(string Path, ShardManifest Manifest, JsonElement Payload)
{
    /// <summary>
    /// The payload as <typeparamref name="T"/>, checked by <paramref name="complete"/> (every field merge reads is there).
    /// </summary>
    /// <param name="what">What the payload is, for the message ("an attack part").</param>
    /// <param name="complete">True when the read payload has every field merge needs.</param>
    /// <exception cref="BadInputException">A payload that does not read as <typeparamref name="T"/> or is incomplete, naming the part.</exception>
    public T Read<T>(string what, Func<T, bool> complete)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(complete);
        try
        {
            return Payload.Deserialize<T>(ShardParts.Json) is { } payload && complete(payload)
                ? payload
                : throw new BadInputException($"merge: '{Path}' does not hold a complete {what} (a field merge needs is missing)");
        }
        catch (JsonException exception)
        {
            throw new BadInputException($"merge: '{Path}' is not a readable {what}: {exception.Message}");
        }
    }
}

/// <summary>
/// Shard parts on disk: each is one JSON file, <c>COMMAND.part-I-of-N.json</c>, holding the manifest and the command's
/// payload, written atomically (a killed shard leaves no half-written part). <see cref="ReadSet"/> finds the parts in
/// the folders given and refuses a set that cannot be merged: parts of different commands, builds, settings, data or model
/// weights, a shard missing or given twice, a part that is corrupt or covers the wrong images. Every refusal is a
/// <see cref="BadInputException"/> naming the part and what differs.
/// </summary>
public static class ShardParts
{
    /// <summary>The JSON options of parts (web casing; NaN and infinities as named literals).</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>The part's file name: <c>COMMAND.part-I-of-N.json</c>.</summary>
    public static string FileName(string command, Shard shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        return string.Create(CultureInfo.InvariantCulture, $"{command}.part-{shard.Index}-of-{shard.Count}.json");
    }

    /// <summary>Writes the part into <paramref name="folder"/> (created if missing), atomically; returns its path.</summary>
    public static string Write<T>(string folder, ShardManifest manifest, T payload)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(folder);
        string path = System.IO.Path.Combine(folder, FileName(manifest.Command, manifest.Part));
        var document = new Dictionary<string, object?> { ["manifest"] = manifest, ["payload"] = payload };
        AtomicFile.WriteAllBytes(path, JsonSerializer.SerializeToUtf8Bytes(document, Json));
        return path;
    }

    /// <summary>The first 16 bytes of the SHA-256 of a model's file, hex: what a manifest records for a model.</summary>
    public static string Fingerprint(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream))[..32];
    }

    /// <summary>
    /// Reads every part in <paramref name="locations"/> (folders, searched for <c>*.part-*-of-*.json</c>, or part files)
    /// and checks that they form one complete run: same command, settings, data, total and model fingerprints, every
    /// shard 0..n-1 exactly once, each covering its own range. Returns the parts in shard order.
    /// </summary>
    /// <exception cref="BadInputException">Nothing found, an unreadable part, or a set that is not one run.</exception>
    public static IReadOnlyList<ShardPart> ReadSet(IReadOnlyList<string> locations)
    {
        ArgumentNullException.ThrowIfNull(locations);
        var files = new List<string>();
        foreach (string location in locations)
        {
            if (Directory.Exists(location))
            {
                var found = Directory.GetFiles(location, "*.part-*-of-*.json").Order(StringComparer.Ordinal).ToList();
                if (found.Count == 0)
                {
                    throw new BadInputException($"merge: no shard parts (*.part-I-of-N.json) in '{location}'");
                }
                files.AddRange(found);
            }
            else if (File.Exists(location))
            {
                files.Add(location);
            }
            else
            {
                throw new BadInputException($"merge: '{location}' is neither a folder nor a file");
            }
        }
        if (files.Count == 0)
        {
            throw new BadInputException("merge: give at least one folder of shard parts");
        }
        var parts = files.Distinct(StringComparer.Ordinal).Select(Read).ToList();
        Check(parts);
        return [.. parts.OrderBy(part => part.Manifest.Part.Index)];
    }

    /// <summary>Reads one part file.</summary>
    /// <exception cref="BadInputException">A file that is not a complete part.</exception>
    public static ShardPart Read(string path)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            var manifest = root.GetProperty("manifest").Deserialize<ShardManifest>(Json)
                ?? throw new BadInputException($"merge: '{path}' has an empty manifest");
            if (manifest.Command is null || manifest.Settings is null || manifest.Models is null || manifest.Dataset is null || manifest.Shard is null)
            {
                throw new BadInputException($"merge: the manifest of '{path}' lacks a field (command, settings, shard, dataset or models)");
            }
            var shard = manifest.Part;
            if (manifest.Block < 1)
            {
                throw new BadInputException($"merge: the manifest of '{path}' gives a batch of {manifest.Block} images; expected at least 1");
            }
            var (start, length) = shard.Range(manifest.Total, manifest.Block);
            if (manifest.Units is null && (manifest.Start != start || manifest.Length != length))
            {
                throw new BadInputException(
                    $"merge: '{path}' says shard {shard} covers images {manifest.Start}..{manifest.Start + manifest.Length - 1} of {manifest.Total}, " +
                    $"but that shard owns {start}..{start + length - 1}");
            }
            return new ShardPart(path, manifest, root.GetProperty("payload").Clone());
        }
        catch (Exception exception) when (exception is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new BadInputException($"merge: '{path}' is not a readable shard part (corrupt or truncated?): {exception.Message}");
        }
        catch (IOException exception)
        {
            throw new BadInputException($"merge: cannot read '{path}': {exception.Message}");
        }
    }

    private static void Check(List<ShardPart> parts)
    {
        var first = parts[0];
        var reference = first.Manifest;
        foreach (var part in parts.Skip(1))
        {
            var manifest = part.Manifest;
            Same("command", reference.Command, manifest.Command);
            Same("dataset", reference.Dataset, manifest.Dataset);
            Same("build of the product", reference.Product ?? "", manifest.Product ?? "");
            Same("total images", reference.Total.ToString(CultureInfo.InvariantCulture), manifest.Total.ToString(CultureInfo.InvariantCulture));
            Same("batch (images per block a shard takes whole)", reference.Block.ToString(CultureInfo.InvariantCulture), manifest.Block.ToString(CultureInfo.InvariantCulture));
            Same("shard count", reference.Part.Count.ToString(CultureInfo.InvariantCulture), manifest.Part.Count.ToString(CultureInfo.InvariantCulture));
            foreach (string key in reference.Settings.Keys.Union(manifest.Settings.Keys).Order(StringComparer.Ordinal))
            {
                Same($"setting {key}", reference.Settings.GetValueOrDefault(key, "(absent)"), manifest.Settings.GetValueOrDefault(key, "(absent)"));
            }
            // Parts split by images all use the same models; parts split by units of work (reproduce) each use some, checked below.
            if (manifest.Units is null)
            {
                foreach (string model in reference.Models.Keys.Union(manifest.Models.Keys).Order(StringComparer.Ordinal))
                {
                    Same($"weights of model '{model}' (SHA-256)", reference.Models.GetValueOrDefault(model, "(not used)"), manifest.Models.GetValueOrDefault(model, "(not used)"));
                }
            }

            void Same(string what, string expected, string actual)
            {
                if (!string.Equals(expected, actual, StringComparison.Ordinal))
                {
                    throw new BadInputException($"merge: the parts are not from one run: {what} is '{expected}' in '{first.Path}' but '{actual}' in '{part.Path}'");
                }
            }
        }
        int count = reference.Part.Count;
        var byIndex = parts.GroupBy(part => part.Manifest.Part.Index).ToDictionary(group => group.Key, group => group.ToList());
        foreach (var (index, group) in byIndex.OrderBy(pair => pair.Key))
        {
            if (group.Count > 1)
            {
                throw new BadInputException($"merge: shard {index}/{count} is given twice: '{group[0].Path}' and '{group[1].Path}'");
            }
        }
        var missing = Enumerable.Range(0, count).Where(index => !byIndex.ContainsKey(index)).ToList();
        // A model two parts both used must be the same weights in both.
        var firstUse = new Dictionary<string, ShardPart>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (var (model, hash) in part.Manifest.Models.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                if (!firstUse.TryAdd(model, part) && firstUse[model].Manifest.Models[model] != hash)
                {
                    throw new BadInputException($"merge: the parts are not from one run: weights of model '{model}' (SHA-256) are " +
                        $"'{firstUse[model].Manifest.Models[model]}' in '{firstUse[model].Path}' but '{hash}' in '{part.Path}'");
                }
            }
        }
        var ownerOfUnit = new Dictionary<string, ShardPart>(StringComparer.Ordinal);
        foreach (var part in parts)
        {
            foreach (string unit in part.Manifest.Units ?? [])
            {
                if (!ownerOfUnit.TryAdd(unit, part))
                {
                    throw new BadInputException($"merge: the parts are not from one run: both '{ownerOfUnit[unit].Path}' and '{part.Path}' cover {unit}");
                }
            }
        }
        if (missing.Count > 0)
        {
            throw new BadInputException(
                $"merge: shard{(missing.Count > 1 ? "s" : "")} {string.Join(", ", missing.Take(10).Select(index => $"{index}/{count}"))}{(missing.Count > 10 ? ", ..." : "")} " +
                $"missing ({parts.Count} of {count} parts given)");
        }
    }
}
