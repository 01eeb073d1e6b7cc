package io.openshell.client.exec;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Api;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.sandbox.Progress;
import io.openshell.protocol.v1.ExecSandboxEvent;
import io.openshell.protocol.v1.ExecSandboxRequest;
import io.openshell.protocol.v1.GetSandboxRequest;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxPhase;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.stream.javadsl.Sink;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code openshell sandbox exec}: runs a command through the gateway's ExecSandbox (no ssh binary),
 * streaming its stdout and stderr to ours as they arrive and exiting with its exit code.
 */
@Command(name = "exec", description = "Run a command in a sandbox through the gateway (no ssh needed) and exit with its code.")
public final class ExecCommand implements Callable<Integer> {
  private static final Duration CALL = Duration.ofSeconds(60);

  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Option(names = {"-n", "--name"}, required = true, paramLabel = "NAME", description = "The sandbox.")
  String name;

  @Option(names = "--workdir", paramLabel = "DIR", description = "Directory to run CMD in.")
  String workdir;

  @Option(names = "--env", paramLabel = "KEY=VALUE", description = "Environment for CMD (repeatable).")
  List<String> env = new ArrayList<>();

  @Option(names = "--timeout", paramLabel = "SECONDS", description = "Kill CMD after this many seconds (exit 124); 0: no limit.")
  int timeoutSeconds;

  @Option(names = "--tty", negatable = true, description = "Run CMD on a terminal (default: when stdin and stdout are terminals).")
  Boolean tty;

  @Parameters(arity = "1..*", paramLabel = "CMD", description = "Command and arguments (after --).")
  List<String> command = new ArrayList<>();

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public ExecCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, String> environmentVariables = environmentVariables(env);
    if (timeoutSeconds < 0) throw new CliException("--timeout must be 0 (no limit) or a number of seconds", 2);
    boolean terminal = System.console() != null;
    boolean useTty = tty != null ? tty : terminal;
    // A PTY merges the streams and stdin is the terminal's; otherwise piped stdin is passed along.
    byte[] stdin = useTty || ExecStdin.isTerminal() ? new byte[0] : ExecStdin.read(System.in, ExecStdin.MAX_BYTES);

    try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
      Sandbox sandbox = api.await(api.client().getSandbox(GetSandboxRequest.newBuilder().setName(name).build()), CALL).getSandbox();
      if (sandbox.getPhase() != SandboxPhase.SANDBOX_PHASE_READY) {
        throw new CliException(notReady(name, sandbox.getPhase()));
      }
      ExecSandboxRequest.Builder request = ExecSandboxRequest.newBuilder()
          .setSandboxId(sandbox.getId())
          .addAllCommand(command)
          .putAllEnvironment(environmentVariables)
          .setTimeoutSeconds(timeoutSeconds)
          .setTty(useTty)
          .setStdin(com.google.protobuf.ByteString.copyFrom(stdin));
      if (workdir != null) request.setWorkdir(workdir);
      return stream(api, request.build());
    }
  }

  /** Writes each event to its descriptor as it arrives; the exit event's code is ours. */
  private int stream(Api api, ExecSandboxRequest request) throws InterruptedException {
    OutputStream stdout = new FileOutputStream(FileDescriptor.out);
    OutputStream stderr = new FileOutputStream(FileDescriptor.err);
    AtomicInteger exit = new AtomicInteger(-1);
    try {
      api.client().execSandbox(request)
          .runWith(Sink.foreach((ExecSandboxEvent event) -> {
            switch (event.getPayloadCase()) {
              case STDOUT -> write(stdout, event.getStdout().getData());
              case STDERR -> write(stderr, event.getStderr().getData());
              case EXIT -> exit.set(event.getExit().getExitCode());
              default -> { }
            }
          }), api.system())
          .toCompletableFuture().get();
    } catch (ExecutionException e) {
      throw api.describe(e.getCause());
    }
    if (exit.get() < 0) {
      throw new CliException("the command's exit status never arrived (the gateway ended the stream without one)");
    }
    return exit.get();
  }

  private static void write(OutputStream stream, com.google.protobuf.ByteString data) throws IOException {
    data.writeTo(stream);
    stream.flush();
  }

  /** Upstream's wording (UPSTREAM.md §F), with the phase spelt as upstream prints it ("Provisioning"). */
  static String notReady(String name, SandboxPhase phase) {
    String upper = Progress.phaseName(phase);
    String spelt = upper.charAt(0) + upper.substring(1).toLowerCase(java.util.Locale.ROOT);
    return "sandbox '" + name + "' is not ready (phase: " + spelt + "); wait for it to reach Ready state";
  }

  /** {@code KEY=VALUE} pairs, checked here only for shape; the gateway checks the key's characters. */
  static Map<String, String> environmentVariables(List<String> pairs) {
    Map<String, String> result = new LinkedHashMap<>();
    for (String pair : pairs) {
      int eq = pair.indexOf('=');
      if (eq <= 0) throw new CliException("--env takes KEY=VALUE, got '" + pair + "'", 2);
      result.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return result;
  }
}
