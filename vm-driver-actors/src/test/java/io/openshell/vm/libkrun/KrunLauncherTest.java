package io.openshell.vm.libkrun;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The libkrun binding against a stand-in library compiled here with gcc: it exports libkrun's
 * symbols with libkrun's C signatures and records every call (walking the NULL-terminated arrays as
 * libkrun does). Real libkrun cannot run on these machines (no KVM, not packaged in Debian 12).
 */
class KrunLauncherTest {
  @TempDir
  static Path dir;
  static Path library;

  private static final String FAKE = """
      #include <stdio.h>
      #include <stdint.h>
      #include <stdlib.h>
      static FILE *out(void) {
        static FILE *f = NULL;
        if (!f) { f = fopen(getenv("FAKE_KRUN_LOG"), "a"); setvbuf(f, NULL, _IONBF, 0); }
        return f;
      }
      static void list(const char *const list[]) {
        fprintf(out(), "[");
        for (int i = 0; list && list[i]; i++) fprintf(out(), "%s%s", i ? "|" : "", list[i]);
        fprintf(out(), "]");
      }
      int32_t krun_set_log_level(uint32_t level) { fprintf(out(), "set_log_level %u\\n", level); return 0; }
      int32_t krun_create_ctx(void) { fprintf(out(), "create_ctx\\n"); return 7; }
      int32_t krun_set_vm_config(uint32_t ctx, uint8_t vcpus, uint32_t ram) { fprintf(out(), "set_vm_config %u %u %u\\n", ctx, vcpus, ram); return 0; }
      int32_t krun_set_root(uint32_t ctx, const char *root) { fprintf(out(), "set_root %u %s\\n", ctx, root); return 0; }
      int32_t krun_set_workdir(uint32_t ctx, const char *dir) { fprintf(out(), "set_workdir %u %s\\n", ctx, dir); return 0; }
      int32_t krun_set_exec(uint32_t ctx, const char *path, const char *const argv[], const char *const envp[]) {
        fprintf(out(), "set_exec %u %s ", ctx, path); list(argv); fprintf(out(), " "); list(envp); fprintf(out(), "\\n"); return 0;
      }
      int32_t krun_set_port_map(uint32_t ctx, const char *const map[]) { fprintf(out(), "set_port_map %u ", ctx); list(map); fprintf(out(), "\\n"); return 0; }
      int32_t krun_set_console_output(uint32_t ctx, const char *path) { fprintf(out(), "set_console_output %u %s\\n", ctx, path); return 0; }
      int32_t krun_start_enter(uint32_t ctx) { fprintf(out(), "start_enter %u\\n", ctx); return -22; }
      """;

  @BeforeAll
  static void compile() throws Exception {
    Path source = dir.resolve("fakekrun.c");
    Files.writeString(source, FAKE);
    library = dir.resolve("libfakekrun.so");
    Process gcc = new ProcessBuilder("gcc", "-shared", "-fPIC", "-o", library.toString(), source.toString())
        .redirectErrorStream(true).start();
    String out = new String(gcc.getInputStream().readAllBytes());
    assertTrue(gcc.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, gcc.exitValue(), "gcc failed: " + out);
  }

  @Test
  void theLauncherConfiguresOneContextThenEntersTheVmAndReportsItsFailure() throws Exception {
    Path log = dir.resolve("calls-" + System.nanoTime() + ".log");
    // A separate JVM, as the driver runs it: the fake library records to a file named in its env.
    ProcessBuilder builder = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), KrunLauncher.class.getName(),
        "--library", library.toString(), "--vcpus", "2", "--mem-mib", "2048", "--root", "/state/rootfs",
        "--workdir", "/sandbox", "--console", "/state/rootfs-console.log",
        "--env", "HOME=/sandbox", "--env", "OPENSHELL_SANDBOX_ID=id-1",
        "--", "/usr/bin/java", "-jar", "/opt/openshell/supervisor.jar")).redirectErrorStream(true);
    builder.environment().put("FAKE_KRUN_LOG", log.toString());
    Process launcher = builder.start();
    String output = new String(launcher.getInputStream().readAllBytes());
    assertTrue(launcher.waitFor(60, TimeUnit.SECONDS));
    assertEquals(1, launcher.exitValue(), output);
    assertTrue(output.contains("krun_start_enter failed: errno 22"), output);
    assertEquals(List.of(
        "create_ctx",
        "set_vm_config 7 2 2048",
        "set_root 7 /state/rootfs",
        "set_workdir 7 /sandbox",
        "set_exec 7 /usr/bin/java [-jar|/opt/openshell/supervisor.jar] [HOME=/sandbox|OPENSHELL_SANDBOX_ID=id-1]",
        "set_port_map 7 []",
        "set_console_output 7 /state/rootfs-console.log",
        "start_enter 7"), Files.readAllLines(log));
  }

  @Test
  void badArgumentsStopTheLauncherBeforeLibkrunIsLoaded() {
    assertThrows(IllegalArgumentException.class, () -> KrunLauncher.parse(new String[] {"--vcpus", "2", "--", "/bin/true"}));
    assertThrows(IllegalArgumentException.class, () -> KrunLauncher.parse(new String[] {"--root", "/r"}));
    assertThrows(IllegalArgumentException.class, () -> KrunLauncher.parse(new String[] {"--root", "/r", "--vcpus", "0", "--", "x"}));
  }
}
