package io.openshell.vm.libkrun;

import com.sun.jna.Native;
import java.util.ArrayList;
import java.util.List;

/**
 * The per-sandbox launcher process of the libkrun backend. {@code krun_start_enter} turns the calling
 * process into the VM and never returns on success, so it cannot run in the gateway: the driver spawns
 * this main (under a parent-death signal) and the process's exit is the VM's exit.
 *
 * <p>Arguments: {@code --library L --vcpus N --mem-mib M --root DIR --workdir DIR --console FILE
 * [--env K=V]... -- EXEC [ARG]...}.
 */
public final class KrunLauncher {
  private KrunLauncher() {}

  public record Config(String library, int vcpus, int memMib, String root, String workdir, String console,
      List<String> env, List<String> command) {}

  public static void main(String[] args) {
    Config config;
    try {
      config = parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("krun-launcher: " + e.getMessage());
      System.exit(2);
      return;
    }
    DeathSignal.armKill();
    System.exit(run(config, LibKrun.load(config.library())));
  }

  static Config parse(String[] args) {
    String library = "krun";
    int vcpus = 2;
    int memMib = 2048;
    String root = null;
    String workdir = "/sandbox";
    String console = null;
    List<String> env = new ArrayList<>();
    int i = 0;
    for (; i < args.length && !args[i].equals("--"); i += 2) {
      if (i + 1 >= args.length) throw new IllegalArgumentException(args[i] + " needs a value");
      String value = args[i + 1];
      switch (args[i]) {
        case "--library" -> library = value;
        case "--vcpus" -> vcpus = Integer.parseInt(value);
        case "--mem-mib" -> memMib = Integer.parseInt(value);
        case "--root" -> root = value;
        case "--workdir" -> workdir = value;
        case "--console" -> console = value;
        case "--env" -> env.add(value);
        default -> throw new IllegalArgumentException("unknown argument " + args[i]);
      }
    }
    if (root == null) throw new IllegalArgumentException("--root is required");
    if (i >= args.length - 1) throw new IllegalArgumentException("the guest command follows --");
    List<String> command = List.of(args).subList(i + 1, args.length);
    if (vcpus < 1 || vcpus > 255) throw new IllegalArgumentException("--vcpus must be 1..255");
    return new Config(library, vcpus, memMib, root, workdir, console, List.copyOf(env), List.copyOf(command));
  }

  /** Configures one context and enters the VM; the exit status when that fails. */
  static int run(Config config, LibKrun krun) {
    int ctx = krun.krun_create_ctx();
    if (ctx < 0) return failed("krun_create_ctx", ctx);
    int rc;
    if ((rc = krun.krun_set_vm_config(ctx, (byte) config.vcpus(), config.memMib())) < 0) return failed("krun_set_vm_config", rc);
    if ((rc = krun.krun_set_root(ctx, config.root())) < 0) return failed("krun_set_root", rc);
    if ((rc = krun.krun_set_workdir(ctx, config.workdir())) < 0) return failed("krun_set_workdir", rc);
    String exec = config.command().get(0);
    String[] argv = config.command().subList(1, config.command().size()).toArray(String[]::new);
    if ((rc = krun.krun_set_exec(ctx, exec, argv, config.env().toArray(String[]::new))) < 0) return failed("krun_set_exec", rc);
    // An empty map: no host port is forwarded into the guest; the guest only dials out.
    if ((rc = krun.krun_set_port_map(ctx, new String[0])) < 0) return failed("krun_set_port_map", rc);
    if (config.console() != null && (rc = krun.krun_set_console_output(ctx, config.console())) < 0) {
      return failed("krun_set_console_output", rc);
    }
    rc = krun.krun_start_enter(ctx);
    return failed("krun_start_enter", rc);
  }

  private static int failed(String call, int rc) {
    System.err.println("krun-launcher: " + call + " failed: errno " + (-rc));
    return 1;
  }

  /** prctl(PR_SET_PDEATHSIG, SIGKILL) for this process: the launcher dies with the gateway. */
  static final class DeathSignal {
    private static final int PR_SET_PDEATHSIG = 1;
    private static final int SIGKILL = 9;

    interface C extends com.sun.jna.Library {
      int prctl(int option, long arg2, long arg3, long arg4, long arg5);
    }

    static void armKill() {
      Native.load("c", C.class).prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    }
  }
}
