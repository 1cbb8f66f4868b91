using Intriguing.Cli;
using Intriguing.Cli.Output;

return IntriguingCli.Run(args, CliIo.ForProcess());
