package io.openshell.client.ssh;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.sshsession.SshSessions;
import java.io.IOException;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox ssh-config NAME [--install]}: the {@code Host openshell-NAME} block for ~/.ssh/config. */
@Command(name = "ssh-config", description = "Print an ssh config block for a sandbox (Host openshell-NAME), or install it.")
public final class SshConfigCommand implements Callable<Integer> {
  // The name becomes a Host pattern: no wildcards, negation, spaces or commas.
  private static final Pattern HOST_SAFE = Pattern.compile("[A-Za-z0-9._-]+");

  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Option(names = "--install", description = "Write the block to the managed ssh config (${XDG_CONFIG_HOME:-~/.config}/openshell/ssh_config) "
      + "and include that file from ~/.ssh/config once; then 'ssh openshell-NAME' works.")
  boolean install;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  SshConfigCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    if (!HOST_SAFE.matcher(name).matches()) {
      throw new CliException("sandbox name '" + name + "' cannot be an ssh Host alias (letters, digits, '.', '_' and '-' only)");
    }
    GatewaySelection.Choice choice = gateway.choose(environment, spec.commandLine().getErr());
    SshCommandLine ssh;
    try {
      // Fails now, not at the first ssh, when the sandbox does not exist.
      ssh = SandboxSsh.prepare(choice, environment, name);
    } catch (SshSessions.NotReady notYet) {
      // The block is valid all the same; the proxy waits for readiness when ssh runs it.
      ssh = SshCommandLine.forSandbox(ProxyLauncher.command(), choice.name(), name);
    }
    String block = ManagedSshConfig.hostBlock(name, ssh);
    var out = spec.commandLine().getOut();
    if (install) {
      ManagedSshConfig config = ManagedSshConfig.of(environment);
      try {
        config.install(ManagedSshConfig.alias(name), block);
      } catch (IOException e) {
        throw new CliException("cannot write the ssh config: " + e.getMessage());
      }
      out.println("Installed Host " + ManagedSshConfig.alias(name) + " in " + config.managedFile() + "; connect with: ssh "
          + ManagedSshConfig.alias(name));
    } else {
      out.print(block);
    }
    out.flush();
    return 0;
  }
}
