package io.openshell.vm.assets;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes a cpio archive in the kernel's initramfs format ("newc"): a 110-byte ASCII header per entry,
 * name and data each padded to 4 bytes, then the TRAILER!!! entry. Owner is always root.
 */
final class NewcArchive implements AutoCloseable {
  private static final int DIRECTORY = 0040000;
  private static final int REGULAR = 0100000;
  private static final int SYMLINK = 0120000;

  private final OutputStream out;
  private long written;
  private int inode = 1;

  NewcArchive(OutputStream out) {
    this.out = out;
  }

  void directory(String name) throws IOException {
    entry(name, DIRECTORY | 0755, new byte[0]);
  }

  void file(String name, int permissions, byte[] data) throws IOException {
    entry(name, REGULAR | permissions, data);
  }

  void symlink(String name, String target) throws IOException {
    entry(name, SYMLINK | 0777, target.getBytes(StandardCharsets.UTF_8));
  }

  private void entry(String name, int mode, byte[] data) throws IOException {
    byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
    String header = String.format("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
        inode++, mode, 0, 0, (mode & DIRECTORY) == DIRECTORY && (mode & REGULAR) != REGULAR ? 2 : 1, 0, data.length,
        0, 0, 0, 0, nameBytes.length + 1, 0);
    write(header.getBytes(StandardCharsets.US_ASCII));
    write(nameBytes);
    write(new byte[] {0});
    pad();
    write(data);
    pad();
  }

  private void write(byte[] bytes) throws IOException {
    out.write(bytes);
    written += bytes.length;
  }

  private void pad() throws IOException {
    while (written % 4 != 0) write(new byte[] {0});
  }

  @Override
  public void close() throws IOException {
    entry("TRAILER!!!", 0, new byte[0]);
    out.close();
  }
}
