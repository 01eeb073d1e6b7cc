package io.openshell.vm.hypervisor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * QEMU as the launcher: {@code -M pc} with a PVH-booted ELF kernel, no firmware menus, no default
 * devices, the guest console on stdout, 9p shares for the host trees, user-mode networking with no
 * host forwards (outbound only). With {@code -no-reboot} the guest's {@code reboot -f} (or a panic of
 * its PID 1) ends QEMU, so a launcher exit means the VM is gone.
 */
public final class QemuHypervisor implements Hypervisor {
  /** Kernel command line: quiet console on the serial port; panic reboots (= exits) at once. */
  static final String KERNEL_ARGS = "console=ttyS0 quiet loglevel=1 mitigations=off tsc=reliable nokaslr panic=-1 i8042.noaux i8042.nokbd";

  private final String binary;
  private final Path kernel;
  private final Path initramfs;
  private final boolean kvm;

  public QemuHypervisor(String binary, Path kernel, Path initramfs, boolean kvm) {
    this.binary = binary;
    this.kernel = kernel;
    this.initramfs = initramfs;
    this.kvm = kvm;
  }

  @Override
  public String name() {
    return kvm ? "qemu-kvm" : "qemu-tcg";
  }

  @Override
  public List<String> launcherCommand(VmPlan plan) {
    List<String> args = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    args.addAll(base(binary, kernel, initramfs, kvm, plan.vcpus(), plan.memMib(), KERNEL_ARGS));
    args.addAll(share("openshell", plan.rootfsDir(), true));
    args.addAll(share("usr", Path.of("/usr"), true));
    args.addAll(share("supervisor", plan.supervisorDir(), true));
    args.addAll(share("workspace", plan.workspaceDir(), false));
    args.addAll(List.of("-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile="));
    return List.copyOf(args);
  }

  static List<String> base(String binary, Path kernel, Path initramfs, boolean kvm, int vcpus, int memMib, String append) {
    // Under TCG "qemu64" starts the guest JVM faster than "max" (STACK.md); under KVM the host CPU.
    return List.of(binary, "-M", "pc", "-accel", kvm ? "kvm" : "tcg,thread=multi", "-cpu", kvm ? "host" : "qemu64",
        "-smp", Integer.toString(vcpus), "-m", Integer.toString(memMib), "-nodefaults", "-no-user-config", "-nographic",
        "-no-reboot", "-serial", "stdio", "-monitor", "none", "-kernel", kernel.toString(), "-initrd", initramfs.toString(),
        "-append", append);
  }

  /** The KVM probe: the same kernel and initramfs, told to print a marker and exit at once. */
  public static List<String> probeCommand(String binary, Path kernel, Path initramfs) {
    List<String> args = new ArrayList<>(List.of("setpriv", "--pdeathsig", "KILL", "--"));
    args.addAll(base(binary, kernel, initramfs, true, 1, 256, KERNEL_ARGS + " openshell.probe"));
    return args;
  }

  public static final String PROBE_MARKER = "OPENSHELL-ACCEL-PROBE-OK";

  private static List<String> share(String tag, Path path, boolean readOnly) {
    // security_model=none: the guest's ownership changes (chown 10001 of /sandbox) apply as QEMU's
    // user; multidevs=remap keeps inode numbers unique across host filesystems.
    return List.of("-fsdev", "local,id=" + tag + ",path=" + path + ",security_model=none,multidevs=remap"
            + (readOnly ? ",readonly=on" : ""),
        "-device", "virtio-9p-pci,fsdev=" + tag + ",mount_tag=" + tag);
  }
}
