package io.openshell.gateway.compute.process;

import java.util.concurrent.TimeUnit;

/** Whether bubblewrap is installed and can create the namespaces the driver asks for, here. */
final class Bubblewrap {
  private Bubblewrap() {}

  static boolean works() {
    try {
      Process probe = new ProcessBuilder("bwrap", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--die-with-parent",
          "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
          "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev", "--", "/usr/bin/true")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!probe.waitFor(10, TimeUnit.SECONDS)) {
        probe.destroyForcibly();
        return false;
      }
      return probe.exitValue() == 0;
    } catch (java.io.IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
