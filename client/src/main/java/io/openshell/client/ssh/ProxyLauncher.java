package io.openshell.client.ssh;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The command ssh runs as ProxyCommand, up to its arguments: the checkout's {@code ./openshell ssh-proxy}
 * (which starts the proxy's lean JVM directly) when the CLI was started by that script, else this JVM's
 * java running the proxy class from this CLI's class path with the same lean flags.
 */
public final class ProxyLauncher {
  /** The flags ./openshell gives the proxy's JVM: C1 only, serial GC, class data sharing, no perf file. */
  public static final List<String> LEAN_JVM_FLAGS = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
      "-XX:-UsePerfData");
  public static final String MAIN_CLASS = "io.openshell.client.sshproxy.SshProxyMain";

  private ProxyLauncher() {}

  public static List<String> command() {
    String home = System.getProperty("openshell.home");
    if (home != null) {
      Path script = Path.of(home, "openshell").toAbsolutePath().normalize();
      if (Files.isExecutable(script)) return List.of(script.toString(), "ssh-proxy");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(LEAN_JVM_FLAGS);
    command.add("-cp");
    // ssh may run the command from another directory: every class path entry absolute.
    command.add(Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
        .map(entry -> Path.of(entry).toAbsolutePath().toString())
        .collect(Collectors.joining(File.pathSeparator)));
    command.add(MAIN_CLASS);
    return command;
  }
}
