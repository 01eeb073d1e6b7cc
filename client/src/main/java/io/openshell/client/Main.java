package io.openshell.client;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.forward.ForwardCommand;
import io.openshell.client.gateway.GatewayCommand;
import io.openshell.client.logs.LogsCommand;
import io.openshell.client.sandbox.SandboxCommand;
import io.openshell.client.sshproxy.SshProxyMain;
import io.openshell.client.vm.VmCommand;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code openshell}: drive sandboxes on an OpenShell gateway. */
@Command(name = "openshell", mixinStandardHelpOptions = true, version = "openshell 0.1.0",
    description = "Create and use sandboxes for AI agents on an OpenShell gateway.",
    footer = {"", "openshell ssh-proxy (ssh's ProxyCommand) is described by 'openshell ssh-proxy --help'."})
public final class Main implements Runnable {
  /**
   * The top-level commands, in help order. Registered lazily (see {@link #run}): picocli reflects over every
   * command it is given, and its own classes are Java 5 bytecode that class-data sharing cannot archive, so
   * building the whole tree costs every short command (such as {@code status}) a large share of its start-up.
   */
  private static final Map<String, Class<?>> COMMANDS = commands();

  private static Map<String, Class<?>> commands() {
    Map<String, Class<?>> commands = new LinkedHashMap<>();
    commands.put("status", StatusCommand.class);
    commands.put("gateway", GatewayCommand.class);
    commands.put("sandbox", SandboxCommand.class);
    commands.put("forward", ForwardCommand.class);
    commands.put("logs", LogsCommand.class);
    commands.put("vm", VmCommand.class);
    return java.util.Collections.unmodifiableMap(commands);
  }

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    if (args.length > 0 && args[0].equals("ssh-proxy")) {
      // ./openshell starts the proxy class directly; this keeps 'java -jar openshell-cli.jar ssh-proxy' working too.
      SshProxyMain.main(java.util.Arrays.copyOfRange(args, 1, args.length));
      return;
    }
    // Initialise logging before any thread logs: SLF4J otherwise reports replayed early calls.
    org.slf4j.LoggerFactory.getILoggerFactory();
    System.exit(run(args, Environment.current(), new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs one command line with the given environment and streams; returns the exit code. */
  public static int run(String[] args, Environment environment, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Main(), new Factory(environment));
    // Only the command the line names; all of them when it names none (help, usage, "did you mean").
    Class<?> named = args.length > 0 ? COMMANDS.get(args[0]) : null;
    if (named != null) commandLine.addSubcommand(args[0], named);
    else COMMANDS.forEach(commandLine::addSubcommand);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler((exception, line, parseResult) -> {
      if (exception instanceof CliException cli) {
        err.println("error: " + cli.getMessage());
        err.flush();
        return cli.exitCode();
      }
      if (environment.get("OPENSHELL_DEBUG").isPresent()) exception.printStackTrace(err);
      err.println("error: " + exception);
      err.flush();
      return 1;
    });
    return commandLine.execute(args);
  }

  /** Hands every command the environment it runs in. */
  private record Factory(Environment environment) implements CommandLine.IFactory {
    @Override
    public <K> K create(Class<K> cls) throws Exception {
      for (var constructor : cls.getDeclaredConstructors()) {
        if (constructor.getParameterCount() == 1 && constructor.getParameterTypes()[0] == Environment.class) {
          constructor.setAccessible(true);
          return cls.cast(constructor.newInstance(environment));
        }
      }
      return CommandLine.defaultFactory().create(cls);
    }
  }
}
