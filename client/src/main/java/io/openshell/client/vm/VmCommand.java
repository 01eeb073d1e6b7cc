package io.openshell.client.vm;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import io.openshell.vm.assets.VmAssets;
import io.openshell.vm.driver.VmDriverSettings;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code openshell vm setup}: prepares the VM driver's guest kernel and initramfs ahead of the first sandbox. */
@Command(name = "vm", description = "VM driver assets.", subcommands = {VmCommand.Setup.class})
public final class VmCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "setup", description = "Download Debian's kernel and busybox-static (apt-get download) and build the guest assets.")
  static final class Setup implements Callable<Integer> {
    private final Environment environment;

    @Option(names = "--cache-dir", description = "Where the assets go (default ${XDG_CACHE_HOME:-~/.cache}/openshell/vm; env OPENSHELL_VM_CACHE_DIR).")
    String cacheDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Setup(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() throws Exception {
      Path dir = cacheDir != null ? Path.of(cacheDir).toAbsolutePath()
          : environment.get("OPENSHELL_VM_CACHE_DIR").map(Path::of).orElseGet(VmDriverSettings::defaultCacheDir);
      try {
        VmAssets.Prepared prepared = VmAssets.prepare(dir);
        var out = spec.commandLine().getOut();
        out.println("VM assets ready in " + dir + " (kernel " + prepared.kernelPackage() + ")");
        out.flush();
        return 0;
      } catch (java.io.IOException e) {
        throw new CliException(e.getMessage());
      }
    }
  }
}
