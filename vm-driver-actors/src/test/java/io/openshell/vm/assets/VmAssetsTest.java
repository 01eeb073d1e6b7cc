package io.openshell.vm.assets;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VmAssetsTest {

  @Test
  void theInitramfsIsANewcArchiveThatBusyboxCpioLists(@TempDir Path dir) throws Exception {
    Path modules = Files.createDirectories(dir.resolve("lib/modules/6.1.0-test/kernel"));
    for (String m : VmAssets.MODULES) Files.writeString(modules.resolve(m + ".ko"), "module " + m);
    Path busybox = dir.resolve("busybox");
    Files.writeString(busybox, "not really busybox");
    Path initramfs = dir.resolve("initramfs.gz");
    VmAssets.writeInitramfs(initramfs, busybox, dir.resolve("lib/modules/6.1.0-test"));

    // gzip -dc | cpio -t: a real extractor reads every entry back.
    Process list = new ProcessBuilder("sh", "-c", "gzip -dc '" + initramfs + "' | busybox cpio -t").redirectErrorStream(true).start();
    List<String> entries = new String(list.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    assertTrue(list.waitFor(30, TimeUnit.SECONDS));
    assertTrue(entries.containsAll(List.of("bin", "bin/busybox", "bin/sh", "init", "modules", "modules/9p.ko", "modules/order")), entries.toString());
    Path out = Files.createDirectories(dir.resolve("x"));
    Process extract = new ProcessBuilder("sh", "-c", "gzip -dc '" + initramfs + "' | busybox cpio -id").directory(out.toFile())
        .redirectErrorStream(true).start();
    extract.getInputStream().readAllBytes();
    assertTrue(extract.waitFor(30, TimeUnit.SECONDS));
    assertEquals(String.join(" ", VmAssets.MODULES), Files.readString(out.resolve("modules/order")).trim());
    assertTrue(Files.readString(out.resolve("init")).startsWith("#!/bin/sh"));
    assertTrue(Files.isExecutable(out.resolve("init")));
    assertEquals("busybox", Files.readSymbolicLink(out.resolve("bin/sh")).toString());
  }

  @Test
  void aKernelWithoutNinePModulesIsRefused(@TempDir Path dir) throws Exception {
    Path modules = Files.createDirectories(dir.resolve("mods"));
    Files.writeString(dir.resolve("busybox"), "x");
    java.io.IOException e = assertThrows(java.io.IOException.class,
        () -> VmAssets.writeInitramfs(dir.resolve("i.gz"), dir.resolve("busybox"), modules));
    assertTrue(e.getMessage().contains("9p"), e.getMessage());
  }

  @Test
  void aKernelImageWithoutAnXzStreamIsRefused(@TempDir Path dir) throws Exception {
    Files.write(dir.resolve("vmlinuz"), new byte[4096]);
    java.io.IOException e = assertThrows(java.io.IOException.class,
        () -> VmAssets.decompressKernel(dir.resolve("vmlinuz"), dir.resolve("vmlinux")));
    assertTrue(e.getMessage().contains("no xz-compressed kernel"), e.getMessage());
  }
}
