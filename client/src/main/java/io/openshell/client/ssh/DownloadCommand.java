package io.openshell.client.ssh;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Environment;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox download NAME PATH [DEST]}: a file or directory out of the sandbox (tar over ssh). */
@Command(name = "download", description = "Copy a file or directory out of a sandbox (default destination: the current directory).")
public final class DownloadCommand implements Callable<Integer> {
  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Parameters(index = "1", paramLabel = "PATH")
  String path;

  @Parameters(index = "2", paramLabel = "DEST", arity = "0..1", defaultValue = ".")
  Path destination;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  DownloadCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    var err = spec.commandLine().getErr();
    SshCommandLine ssh = SandboxSsh.prepare(gateway.choose(environment, err), environment, name);
    err.flush();
    int exit = Transfers.download(environment, ssh, path, destination);
    if (exit == 0) {
      spec.commandLine().getOut().println("Downloaded " + name + ":" + path + " to " + destination);
      spec.commandLine().getOut().flush();
    }
    return exit;
  }
}
