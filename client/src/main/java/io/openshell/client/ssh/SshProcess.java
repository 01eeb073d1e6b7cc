package io.openshell.client.ssh;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import java.io.File;
import java.io.IOException;
import java.util.List;

/**
 * Runs ssh (and tar) as child processes on this terminal and reports their exit codes. Children see the
 * CLI's {@link Environment}: ssh's ProxyCommand must find the same state dir (session cache) as the CLI.
 */
public final class SshProcess {
  private static final File DEV_NULL = new File("/dev/null");

  private SshProcess() {}

  /** On this terminal (stdin, stdout, stderr inherited) until it exits; its exit code. */
  public static int attached(Environment environment, List<String> command) {
    try {
      return waitFor(inEnvironment(new ProcessBuilder(command), environment).inheritIO().start());
    } catch (IOException e) {
      throw cannotStart(command, e);
    }
  }

  /**
   * {@code first | second}, each with this terminal's stderr; {@code second}'s output is ours, {@code first}
   * reads nothing (a pipe's sender must not swallow keystrokes). Returns the first non-zero exit code,
   * the receiving side's first: its failure is the one the user cares about.
   */
  public static int pipeline(Environment environment, List<String> first, List<String> second) {
    List<Process> processes;
    try {
      processes = ProcessBuilder.startPipeline(List.of(
          inEnvironment(new ProcessBuilder(first), environment).redirectInput(DEV_NULL).redirectError(ProcessBuilder.Redirect.INHERIT),
          inEnvironment(new ProcessBuilder(second), environment).redirectOutput(ProcessBuilder.Redirect.INHERIT)
              .redirectError(ProcessBuilder.Redirect.INHERIT)));
    } catch (IOException e) {
      throw cannotStart(first, e);
    }
    int sender = waitFor(processes.get(0));
    int receiver = waitFor(processes.get(1));
    return receiver != 0 ? receiver : sender;
  }

  /** The CLI's variables over the inherited ones (the same set, unless a test injected its own). */
  public static ProcessBuilder inEnvironment(ProcessBuilder builder, Environment environment) {
    builder.environment().putAll(environment.variables());
    return builder;
  }

  private static int waitFor(Process process) {
    try {
      return process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroy();
      return 130;
    }
  }

  private static CliException cannotStart(List<String> command, IOException e) {
    String program = command.get(0);
    return new CliException("cannot run " + program + " (" + e.getMessage() + ")"
        + (program.equals("ssh") ? "; this command needs the OpenSSH client" : ""));
  }
}
