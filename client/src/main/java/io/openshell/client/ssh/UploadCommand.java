package io.openshell.client.ssh;

import io.openshell.client.GatewayOptions;
import io.openshell.client.connection.Environment;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code openshell sandbox upload NAME LOCAL [DEST]}: a file or directory into the sandbox (tar over ssh). */
@Command(name = "upload", description = "Copy a local file or directory into a sandbox (default destination "
    + Transfers.DEFAULT_UPLOAD_DIR + ").")
public final class UploadCommand implements Callable<Integer> {
  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @Parameters(index = "0", paramLabel = "NAME")
  String name;

  @Parameters(index = "1", paramLabel = "LOCAL")
  Path local;

  @Parameters(index = "2", paramLabel = "DEST", arity = "0..1", defaultValue = Transfers.DEFAULT_UPLOAD_DIR)
  String destination;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  UploadCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    var err = spec.commandLine().getErr();
    SshCommandLine ssh = SandboxSsh.prepare(gateway.choose(environment, err), environment, name);
    err.flush();
    int exit = Transfers.upload(environment, ssh, local, destination);
    if (exit == 0) {
      spec.commandLine().getOut().println("Uploaded " + local + " to " + name + ":" + destination);
      spec.commandLine().getOut().flush();
    }
    return exit;
  }
}
