using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;

namespace Intriguing.Tests;

/// <summary>
/// The public surface of an assembly as sorted text lines, one per type and per public or protected member:
/// <c>type | kind | signature</c>, e.g. <c>Intriguing.Attacks.Fgsm | property | public double Epsilon { get; init; }</c>.
/// Type names are written in full (nested types with '.', generics as <c>List&lt;T&gt;</c>, C# keywords for the built-in
/// types, nullable annotations as <c>?</c>), so a line changes exactly when a caller could notice. Lines are sorted
/// ordinally and nothing depends on reflection's order, the machine or the culture.
/// </summary>
internal static class PublicApi
{
    private static readonly NullabilityInfoContext Nullability = new();

    private static readonly Dictionary<Type, string> Keywords = new()
    {
        [typeof(void)] = "void",
        [typeof(object)] = "object",
        [typeof(string)] = "string",
        [typeof(bool)] = "bool",
        [typeof(byte)] = "byte",
        [typeof(sbyte)] = "sbyte",
        [typeof(char)] = "char",
        [typeof(short)] = "short",
        [typeof(ushort)] = "ushort",
        [typeof(int)] = "int",
        [typeof(uint)] = "uint",
        [typeof(long)] = "long",
        [typeof(ulong)] = "ulong",
        [typeof(float)] = "float",
        [typeof(double)] = "double",
        [typeof(decimal)] = "decimal",
        [typeof(nint)] = "nint",
        [typeof(nuint)] = "nuint",
    };

    /// <summary>Every line of <paramref name="assembly"/>'s public surface, sorted ordinally.</summary>
    public static IReadOnlyList<string> Lines(Assembly assembly)
    {
        var lines = new List<string>();
        foreach (var type in assembly.GetTypes().Where(IsVisible))
        {
            string owner = TypeName(type, null);
            lines.Add($"{owner} | type | {Describe(type)}");
            const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            foreach (var constructor in type.GetConstructors(Declared).Where(member => IsVisible(member)))
            {
                lines.Add($"{owner} | constructor | {Access(constructor)}{(constructor.IsStatic ? "static " : "")}.ctor({Parameters(constructor)})");
            }
            foreach (var method in type.GetMethods(Declared).Where(member => IsVisible(member) && (!member.IsSpecialName || member.Name.StartsWith("op_", StringComparison.Ordinal))))
            {
                lines.Add($"{owner} | method | {Method(method)}");
            }
            foreach (var property in type.GetProperties(Declared).Where(property => Accessors(property).Any()))
            {
                lines.Add($"{owner} | property | {Property(property)}");
            }
            foreach (var field in type.GetFields(Declared).Where(field => IsVisible(field) && !field.IsSpecialName))
            {
                lines.Add($"{owner} | field | {Field(field)}");
            }
            foreach (var @event in type.GetEvents(Declared).Where(@event => @event.AddMethod is { } add && IsVisible(add)))
            {
                lines.Add($"{owner} | event | {Access(@event.AddMethod!)}event {TypeName(@event.EventHandlerType!, Nullability.Create(@event))} {@event.Name}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static bool IsVisible(Type type) =>
        type.IsPublic || ((type.IsNestedPublic || type.IsNestedFamily || type.IsNestedFamORAssem) && IsVisible(type.DeclaringType!));

    private static bool IsVisible(MethodBase member) => member.IsPublic || member.IsFamily || member.IsFamilyOrAssembly;

    private static bool IsVisible(FieldInfo field) => field.IsPublic || field.IsFamily || field.IsFamilyOrAssembly;

    /// <summary>Attributes matched by name: other assemblies (ScottPlot) carry their own copies of the compiler's attributes.</summary>
    private static bool Has(IEnumerable<CustomAttributeData> attributes, string fullName) =>
        attributes.Any(attribute => attribute.AttributeType.FullName == fullName);

    private static string Access(MethodBase member) => member.IsPublic ? "public " : member.IsFamilyOrAssembly ? "protected internal " : "protected ";

    private static string Describe(Type type)
    {
        var text = new StringBuilder(type.IsNestedFamily ? "protected " : type.IsNestedFamORAssem ? "protected internal " : "public ");
        bool isRecord = type.GetMethod("<Clone>$") is not null
            || (type.IsValueType && type.GetMethod("PrintMembers", BindingFlags.NonPublic | BindingFlags.Instance) is not null);
        if (type.IsEnum)
        {
            text.Append("enum : ").Append(TypeName(Enum.GetUnderlyingType(type), null));
            return text.ToString();
        }
        if (type.IsInterface)
        {
            text.Append("interface");
        }
        else if (type.IsValueType)
        {
            text.Append(Has(type.CustomAttributes, "System.Runtime.CompilerServices.IsReadOnlyAttribute") ? "readonly " : "").Append(isRecord ? "record struct" : "struct");
        }
        else if (typeof(Delegate).IsAssignableFrom(type))
        {
            var invoke = type.GetMethod("Invoke")!;
            return text.Append("delegate ").Append(TypeName(invoke.ReturnType, Nullability.Create(invoke.ReturnParameter)))
                .Append('(').Append(Parameters(invoke)).Append(')').ToString();
        }
        else
        {
            text.Append(type.IsAbstract && type.IsSealed ? "static " : type.IsAbstract ? "abstract " : type.IsSealed ? "sealed " : "")
                .Append(isRecord ? "record" : "class");
        }
        if (type.IsGenericTypeDefinition)
        {
            text.Append('<').Append(string.Join(", ", type.GetGenericArguments().Select(argument => argument.Name))).Append('>');
        }
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType))
        {
            bases.Add(TypeName(baseType, null));
        }
        bases.AddRange(type.GetInterfaces().Select(face => TypeName(face, null)).Order(StringComparer.Ordinal));
        if (bases.Count > 0)
        {
            text.Append(" : ").Append(string.Join(", ", bases));
        }
        return text.ToString();
    }

    private static string Method(MethodInfo method)
    {
        var text = new StringBuilder(Access(method)).Append(Modifiers(method));
        text.Append(TypeName(method.ReturnType, Nullability.Create(method.ReturnParameter))).Append(' ').Append(method.Name);
        if (method.IsGenericMethodDefinition)
        {
            text.Append('<').Append(string.Join(", ", method.GetGenericArguments().Select(argument => argument.Name))).Append('>');
        }
        return text.Append('(').Append(Parameters(method)).Append(')').ToString();
    }

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }
        if (method.DeclaringType!.IsInterface || !method.IsVirtual)
        {
            return "";
        }
        bool overrides = method.GetBaseDefinition().DeclaringType != method.DeclaringType;
        if (method.IsAbstract)
        {
            return overrides ? "abstract override " : "abstract ";
        }
        if (overrides)
        {
            return method.IsFinal ? "sealed override " : "override ";
        }
        // A final virtual method that overrides nothing implements an interface without being virtual in C#.
        return method.IsFinal ? "" : "virtual ";
    }

    private static IEnumerable<MethodInfo> Accessors(PropertyInfo property) =>
        new[] { property.GetMethod, property.SetMethod }.OfType<MethodInfo>().Where(IsVisible);

    private static string Property(PropertyInfo property)
    {
        var first = Accessors(property).First();
        var text = new StringBuilder(Access(first)).Append(Modifiers(first));
        if (Has(property.CustomAttributes, "System.Runtime.CompilerServices.RequiredMemberAttribute"))
        {
            text.Append("required ");
        }
        text.Append(TypeName(property.PropertyType, Nullability.Create(property))).Append(' ');
        var index = property.GetIndexParameters();
        text.Append(index.Length == 0 ? property.Name : $"this[{string.Join(", ", index.Select(Parameter))}]");
        text.Append(" {");
        if (property.GetMethod is { } get && IsVisible(get))
        {
            text.Append(' ').Append(get.IsPublic == first.IsPublic ? "" : Access(get)).Append("get;");
        }
        if (property.SetMethod is { } set && IsVisible(set))
        {
            bool init = set.ReturnParameter.GetRequiredCustomModifiers().Any(modifier => modifier.FullName == "System.Runtime.CompilerServices.IsExternalInit");
            text.Append(' ').Append(set.IsPublic == first.IsPublic ? "" : Access(set)).Append(init ? "init;" : "set;");
        }
        return text.Append(" }").ToString();
    }

    private static string Field(FieldInfo field)
    {
        var text = new StringBuilder(field.IsPublic ? "public " : field.IsFamilyOrAssembly ? "protected internal " : "protected ");
        if (field.IsLiteral)
        {
            return text.Append("const ").Append(TypeName(field.FieldType, null)).Append(' ').Append(field.Name)
                .Append(" = ").Append(Literal(field.GetRawConstantValue())).ToString();
        }
        text.Append(field.IsStatic ? "static " : "").Append(field.IsInitOnly ? "readonly " : "");
        return text.Append(TypeName(field.FieldType, Nullability.Create(field))).Append(' ').Append(field.Name).ToString();
    }

    private static string Parameters(MethodBase method) => string.Join(", ", method.GetParameters().Select(Parameter));

    private static string Parameter(ParameterInfo parameter)
    {
        var text = new StringBuilder();
        if (parameter.Position == 0 && parameter.Member.IsDefined(typeof(ExtensionAttribute)))
        {
            text.Append("this ");
        }
        if (parameter.IsDefined(typeof(ParamArrayAttribute)))
        {
            text.Append("params ");
        }
        var type = parameter.ParameterType;
        if (type.IsByRef)
        {
            text.Append(parameter.IsOut ? "out " : parameter.IsIn ? "in " : "ref ");
        }
        text.Append(TypeName(type, Nullability.Create(parameter))).Append(' ').Append(parameter.Name);
        if (parameter.HasDefaultValue)
        {
            text.Append(" = ").Append(Literal(parameter.RawDefaultValue));
        }
        return text.ToString();
    }

    private static string Literal(object? value) => value switch
    {
        null => "null",
        string text => $"\"{text}\"",
        char character => $"'{character}'",
        bool flag => flag ? "true" : "false",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        float number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>A type as C# would write it in full; <paramref name="nullability"/> (when known) adds the '?' of nullable references.</summary>
    private static string TypeName(Type type, NullabilityInfo? nullability)
    {
        if (type.IsByRef)
        {
            return TypeName(type.GetElementType()!, nullability?.ElementType ?? nullability);
        }
        if (type.IsPointer)
        {
            return TypeName(type.GetElementType()!, null) + "*";
        }
        if (type.IsArray)
        {
            string rank = type.GetArrayRank() == 1 ? "[]" : $"[{new string(',', type.GetArrayRank() - 1)}]";
            return TypeName(type.GetElementType()!, nullability?.ElementType) + rank + Mark(type, nullability);
        }
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return TypeName(underlying, nullability?.GenericTypeArguments.FirstOrDefault()) + "?";
        }
        if (type.IsGenericParameter)
        {
            return type.Name + Mark(type, nullability);
        }
        if (Keywords.TryGetValue(type, out string? keyword))
        {
            return keyword + Mark(type, nullability);
        }
        string name = QualifiedName(type);
        if (type.IsGenericType)
        {
            var arguments = type.GetGenericArguments();
            var argumentNullability = nullability?.GenericTypeArguments;
            var written = arguments.Select((argument, i) =>
                TypeName(argument, argumentNullability is { } known && i < known.Length ? known[i] : null));
            if (type.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true)
            {
                return "(" + string.Join(", ", written) + ")" + Mark(type, nullability);
            }
            name += "<" + string.Join(", ", written) + ">";
        }
        return name + Mark(type, nullability);
    }

    /// <summary>Namespace, declaring types and name, without generic arity or arguments: <c>Intriguing.Attacks.Attack.PerturbOutput</c>.</summary>
    private static string QualifiedName(Type type) =>
        type.IsNested ? QualifiedName(type.DeclaringType!) + "." + Plain(type.Name)
        : (type.Namespace is { Length: > 0 } space ? space + "." : "") + Plain(type.Name);

    private static string Plain(string name)
    {
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return tick < 0 ? name : name[..tick];
    }

    private static string Mark(Type type, NullabilityInfo? nullability) =>
        !type.IsValueType && nullability?.ReadState == NullabilityState.Nullable ? "?" : "";
}
