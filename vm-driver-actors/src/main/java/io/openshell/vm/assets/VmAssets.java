package io.openshell.vm.assets;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tukaani.xz.SingleXZInputStream;

/**
 * The guest kernel and initramfs, prepared once from Debian packages ({@code apt-get download} +
 * {@code dpkg -x}, nothing else from outside) and cached: Debian's generic kernel (the cloud one has
 * no 9p), decompressed to the ELF {@code vmlinux} because decompressing the bzImage costs seconds
 * under TCG, and a small initramfs of static busybox, the virtio/9p/network modules and the first
 * stage init. A marker file names the asset version and kernel so a new version rebuilds.
 */
public final class VmAssets {
  private static final Logger log = LoggerFactory.getLogger(VmAssets.class);

  /** Bump when the initramfs layout or init changes: cached assets with another marker are rebuilt. */
  static final String VERSION = "1";
  static final List<String> MODULES = List.of("virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
      "virtio_pci", "9pnet", "9pnet_virtio", "netfs", "fscache", "9p", "failover", "net_failover", "virtio_net");
  private static final byte[] XZ_MAGIC = {(byte) 0xfd, '7', 'z', 'X', 'Z', 0};
  static final String INIT_RESOURCE = "/io/openshell/vm/guest/initramfs-init";

  public record Prepared(Path kernel, Path initramfs, String kernelPackage) {}

  private VmAssets() {}

  /** The cached assets, or prepares them (minutes on first use: one ~70 MB kernel package). */
  public static synchronized Prepared prepare(Path cacheDir) throws IOException, InterruptedException {
    Files.createDirectories(cacheDir);
    Path kernel = cacheDir.resolve("vmlinux");
    Path initramfs = cacheDir.resolve("initramfs.gz");
    Path marker = cacheDir.resolve("assets.marker");
    if (Files.isRegularFile(marker) && Files.isRegularFile(kernel) && Files.isRegularFile(initramfs)) {
      String[] fields = Files.readString(marker).trim().split(" ");
      if (fields.length == 2 && fields[0].equals(VERSION)) return new Prepared(kernel, initramfs, fields[1]);
    }
    String kernelPackage = kernelPackage();
    log.info("preparing VM assets in {} from Debian packages {} and busybox-static", cacheDir, kernelPackage);
    Path work = Files.createTempDirectory(cacheDir, "prepare-");
    try {
      Path kernelTree = unpack(kernelPackage, work);
      Path busyboxTree = unpack("busybox-static", work);
      Path vmlinuz;
      try (var boot = Files.list(kernelTree.resolve("boot"))) {
        vmlinuz = boot.filter(p -> p.getFileName().toString().startsWith("vmlinuz-")).findFirst()
            .orElseThrow(() -> new IOException(kernelPackage + " has no /boot/vmlinuz-*"));
      }
      Path newKernel = work.resolve("vmlinux");
      decompressKernel(vmlinuz, newKernel);
      Path newInitramfs = work.resolve("initramfs.gz");
      writeInitramfs(newInitramfs, busyboxTree.resolve("bin").resolve("busybox"), modulesDir(kernelTree));
      Files.move(newKernel, kernel, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.move(newInitramfs, initramfs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      Files.writeString(marker, VERSION + " " + kernelPackage + "\n");
      log.info("VM assets ready: kernel {} ({} bytes), initramfs {} bytes", kernelPackage, Files.size(kernel), Files.size(initramfs));
      return new Prepared(kernel, initramfs, kernelPackage);
    } finally {
      deleteTree(work);
    }
  }

  /** The versioned package {@code linux-image-amd64} depends on (its ABI number moves with updates). */
  static String kernelPackage() throws IOException, InterruptedException {
    String out = run(List.of("apt-cache", "depends", "linux-image-amd64"), null);
    Matcher m = Pattern.compile("Depends: (linux-image-[0-9][^\\s]*-amd64)").matcher(out);
    if (!m.find()) {
      throw new IOException("cannot resolve Debian's linux-image-amd64 (run `apt-get update` first): " + out.trim());
    }
    return m.group(1);
  }

  private static Path unpack(String debianPackage, Path work) throws IOException, InterruptedException {
    Path download = Files.createDirectories(work.resolve("download-" + debianPackage));
    run(List.of("apt-get", "download", debianPackage), download);
    Path deb;
    try (var debs = Files.list(download)) {
      deb = debs.filter(p -> p.toString().endsWith(".deb")).findFirst()
          .orElseThrow(() -> new IOException("apt-get download " + debianPackage + " produced no .deb"));
    }
    Path tree = Files.createDirectories(work.resolve("tree-" + debianPackage));
    run(List.of("dpkg", "-x", deb.toString(), tree.toString()), null);
    Files.delete(deb);
    return tree;
  }

  private static Path modulesDir(Path kernelTree) throws IOException {
    Path lib = kernelTree.resolve("lib").resolve("modules");
    Path modules = Files.isDirectory(lib) ? lib : kernelTree.resolve("usr").resolve("lib").resolve("modules");
    try (var versions = Files.list(modules)) {
      return versions.findFirst().orElseThrow(() -> new IOException("no kernel modules in " + modules));
    }
  }

  /** Finds the xz stream inside the bzImage and decompresses it: the ELF vmlinux QEMU boots via PVH. */
  static void decompressKernel(Path vmlinuz, Path vmlinux) throws IOException {
    byte[] image = Files.readAllBytes(vmlinuz);
    int offset = indexOf(image, XZ_MAGIC);
    if (offset < 0) throw new IOException(vmlinuz + " holds no xz-compressed kernel");
    try (InputStream in = new SingleXZInputStream(new BufferedInputStream(
            new java.io.ByteArrayInputStream(image, offset, image.length - offset)));
        OutputStream out = Files.newOutputStream(vmlinux)) {
      // One stream only: the bytes after it are the bzImage's own trailer, not more xz data.
      in.transferTo(out);
    }
    byte[] head = new byte[4];
    try (InputStream in = Files.newInputStream(vmlinux)) {
      if (in.read(head) != 4 || head[0] != 0x7f || head[1] != 'E' || head[2] != 'L' || head[3] != 'F') {
        throw new IOException("decompressed kernel from " + vmlinuz + " is not an ELF image");
      }
    }
  }

  static void writeInitramfs(Path target, Path busybox, Path modulesDir) throws IOException {
    List<String> present = new ArrayList<>();
    try (NewcArchive cpio = new NewcArchive(new GZIPOutputStream(Files.newOutputStream(target), 1 << 16))) {
      cpio.directory("bin");
      cpio.file("bin/busybox", 0755, Files.readAllBytes(busybox));
      cpio.symlink("bin/sh", "busybox");
      try (InputStream init = VmAssets.class.getResourceAsStream(INIT_RESOURCE)) {
        if (init == null) throw new IllegalStateException("missing resource " + INIT_RESOURCE);
        cpio.file("init", 0755, init.readAllBytes());
      }
      cpio.directory("modules");
      for (String module : MODULES) {
        Path ko;
        try (var found = Files.walk(modulesDir)) {
          ko = found.filter(p -> p.getFileName().toString().equals(module + ".ko")).findFirst().orElse(null);
        }
        // Some are built into the kernel in other configurations: absent means nothing to load.
        if (ko == null) continue;
        cpio.file("modules/" + module + ".ko", 0644, Files.readAllBytes(ko));
        present.add(module);
      }
      cpio.file("modules/order", 0644, (String.join(" ", present) + "\n").getBytes(StandardCharsets.US_ASCII));
    }
    if (!present.contains("9p") || !present.contains("virtio_net")) {
      throw new IOException("kernel modules 9p/virtio_net not found under " + modulesDir + " (the cloud kernel lacks 9p)");
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
      return i;
    }
    return -1;
  }

  private static String run(List<String> command, Path directory) throws IOException, InterruptedException {
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    if (directory != null) builder.directory(directory.toFile());
    Process process = builder.start();
    ByteArrayOutputStream output = new ByteArrayOutputStream();
    process.getInputStream().transferTo(output);
    if (!process.waitFor(10, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      throw new IOException(String.join(" ", command) + " did not finish within 10 minutes");
    }
    String text = output.toString(StandardCharsets.UTF_8);
    if (process.exitValue() != 0) {
      throw new IOException(String.join(" ", command) + " failed (exit " + process.exitValue() + "): " + text.trim()
          + " — are apt lists present (apt-get update)?");
    }
    return text;
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) return;
    try (var paths = Files.walk(root)) {
      for (Path path : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) Files.deleteIfExists(path);
    }
  }
}
