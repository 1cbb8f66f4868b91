using Intriguing;
using Intriguing.Cli;
using Intriguing.Cli.Output;

// Tensors of a few MB are allocated and freed at every step of an attack or training loop; keep that memory mapped.
NativeMemory.KeepFreedMemory();
return IntriguingCli.Run(args, CliIo.ForProcess());
