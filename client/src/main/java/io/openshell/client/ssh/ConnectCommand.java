package io.openshell.client.ssh;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Environment;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox connect NAME}: an interactive shell in the sandbox; exits with ssh's exit code. */
@Command(name = "connect", description = "Open an interactive shell in a sandbox (ssh through the gateway).")
public final class ConnectCommand implements Callable<Integer> {
  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  ConnectCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    var err = spec.commandLine().getErr();
    SshCommandLine ssh = SandboxSsh.prepare(gateway.choose(environment, err), environment, name);
    err.flush();
    spec.commandLine().getOut().flush();
    return SshProcess.attached(environment, ssh.interactiveShell());
  }
}
