package io.openshell.vm.hypervisor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * libkrun through JNA, in a launcher JVM per sandbox ({@code KrunLauncher}): the guest root is the
 * sandbox's rootfs directory, networking is libkrun's own outbound-only path with an empty port map.
 */
public final class KrunHypervisor implements Hypervisor {
  private final String library;
  private final Path javaBinary;
  private final String classPath;

  public KrunHypervisor(String library, Path java, String classPath) {
    this.library = library;
    this.javaBinary = java;
    this.classPath = classPath;
  }

  @Override
  public String name() {
    return "libkrun";
  }

  @Override
  public List<String> launcherCommand(VmPlan plan) {
    List<String> args = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--", javaBinary.toString(),
        "-XX:+UseSerialGC", "-Xmx64m", "-cp", classPath, "io.openshell.vm.libkrun.KrunLauncher",
        "--library", library, "--vcpus", Integer.toString(plan.vcpus()), "--mem-mib", Integer.toString(plan.memMib()),
        "--root", plan.rootfsDir().toString(), "--workdir", "/sandbox", "--console", plan.consoleLog().toString()));
    plan.guestEnvironment().forEach((k, v) -> args.addAll(List.of("--env", k + "=" + v)));
    args.add("--");
    args.addAll(plan.guestCommand());
    return List.copyOf(args);
  }

  /** libkrun is usable when /dev/kvm opens read-write and the library loads. */
  public static boolean available(String library) {
    Path kvm = Path.of("/dev/kvm");
    if (!Files.isReadable(kvm) || !Files.isWritable(kvm)) return false;
    try {
      io.openshell.vm.libkrun.LibKrun.load(library);
      return true;
    } catch (UnsatisfiedLinkError e) {
      return false;
    }
  }
}
