using BulletNative.Format;

namespace BulletNative.Builder;

/// <summary>
/// Collects named float tensors trained elsewhere: a folder of `name.npy` files (or the `layers/0/attention.query.weight.npy`
/// subfolder form), a `model.safetensors` inside such a folder, or a .safetensors file given directly.
/// </summary>
public static class WeightsSource
{
    /// <summary>Loads every tensor the source holds, keyed by its tensor name (docs/format.md, Tensors).</summary>
    public static Dictionary<string, TensorData> Load(string path)
    {
        if (File.Exists(path))
        {
            if (!path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
                throw new BulletArgumentException($"{path} is a file but not .safetensors; give a folder of .npy files or a .safetensors file");
            return ByName(Safetensors.ReadFile(path).Tensors, path);
        }
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"no such folder or file: {path}");

        var safetensors = Path.Combine(path, "model.safetensors");
        var npyFiles = Directory.EnumerateFiles(path, "*.npy", SearchOption.AllDirectories).ToList();
        if (npyFiles.Count == 0)
        {
            if (File.Exists(safetensors)) return ByName(Safetensors.ReadFile(safetensors).Tensors, safetensors);
            throw new BulletArgumentException($"{path} holds no .npy files and no model.safetensors");
        }
        if (File.Exists(safetensors))
            throw new BulletArgumentException($"{path} holds both .npy files and model.safetensors; keep one source of weights");
        var tensors = new List<TensorData>();
        foreach (var file in npyFiles)
        {
            var (shape, values) = NpyReader.ReadFile(file);
            tensors.Add(new TensorData(NameOf(path, file), shape, values));
        }
        return ByName(tensors, path);
    }

    /// <summary>`a/b/c.weight.npy` under the root becomes `a.b.c.weight`, so both folder forms give .bullet tensor names.</summary>
    private static string NameOf(string root, string file)
    {
        var relative = Path.GetRelativePath(root, file);
        var withoutExtension = relative[..^".npy".Length];
        return withoutExtension.Replace(Path.DirectorySeparatorChar, '.').Replace('/', '.');
    }

    private static Dictionary<string, TensorData> ByName(IEnumerable<TensorData> tensors, string source)
    {
        var byName = new Dictionary<string, TensorData>();
        foreach (var t in tensors)
            if (!byName.TryAdd(t.Name, t))
                throw new BulletArgumentException($"{source}: tensor \"{t.Name}\" is given twice");
        return byName;
    }
}
