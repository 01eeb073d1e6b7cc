package io.openshell.vm.libkrun;

import com.sun.jna.Library;
import com.sun.jna.Native;

/**
 * The part of libkrun's C API the launcher uses. Every call returns 0 or a negative errno; String[]
 * arguments reach C as NULL-terminated {@code char **} (JNA appends the NULL).
 */
public interface LibKrun extends Library {
  int krun_set_log_level(int level);

  int krun_create_ctx();

  int krun_set_vm_config(int ctx, byte numVcpus, int ramMib);

  int krun_set_root(int ctx, String rootPath);

  int krun_set_workdir(int ctx, String workdirPath);

  int krun_set_exec(int ctx, String execPath, String[] argv, String[] envp);

  int krun_set_port_map(int ctx, String[] portMap);

  int krun_set_console_output(int ctx, String filepath);

  /** Boots the VM in this process; returns only when it could not start (a negative errno). */
  int krun_start_enter(int ctx);

  static LibKrun load(String nameOrPath) {
    return Native.load(nameOrPath, LibKrun.class);
  }
}
