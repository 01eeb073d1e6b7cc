package io.openshell.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchmarkSummaryTest {
  private static BenchmarkRow row(String key, String figure, BenchmarkRow.Verdict verdict) {
    return new BenchmarkRow(key, "measure " + key, "goal", figure, "baseline", verdict, "1.00 / 2.00 / 3.00", "2026-12-01");
  }

  @Test
  void rowsSurviveTheTabSeparatedFileEvenWithTabsAndPipesInTheirText() {
    BenchmarkRow written = new BenchmarkRow("10-x", "a\tb", "≤ 5 ms", "p50 1 | p99 2", "", BenchmarkRow.Verdict.MISSED, "1 / 2 / 3", "2026-12-01");
    BenchmarkRow read = BenchmarkRow.fromTsv(written.toTsv());
    assertEquals("a b", read.measure());
    assertEquals(BenchmarkRow.Verdict.MISSED, read.verdict());
    assertTrue(read.toMarkdown().contains("p50 1 \\| p99 2"), read.toMarkdown());
    assertTrue(read.toMarkdown().contains("**missed**"), read.toMarkdown());
  }

  @Test
  void theSummaryListsEveryBenchmarksRowsInKeyOrder(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("20-b.tsv"), row("20-b", "two", BenchmarkRow.Verdict.MET).toTsv() + "\n");
    Files.writeString(dir.resolve("10-a.tsv"), row("10-a", "one", BenchmarkRow.Verdict.NO_GOAL).toTsv() + "\n"
        + row("11-a", "one more", BenchmarkRow.Verdict.MISSED).toTsv() + "\n");
    List<BenchmarkRow> rows = BenchmarkSummary.read(dir);
    assertEquals(List.of("10-a", "11-a", "20-b"), rows.stream().map(BenchmarkRow::key).toList());
    String table = BenchmarkSummary.table(rows);
    assertTrue(table.startsWith(BenchmarkSummary.HEADER), table);
    assertEquals(5, table.split("\n").length, table);
  }

  @Test
  void updatingTheDocsReplacesOnlyTheBlockBetweenTheMarkers() {
    String docs = "# Benchmarks\nintro\n" + BenchmarkSummary.BEGIN + "\nold table\n" + BenchmarkSummary.END + "\nrest\n";
    String updated = BenchmarkSummary.replaceBlock(docs, "| new |\n");
    assertEquals("# Benchmarks\nintro\n" + BenchmarkSummary.BEGIN + "\n| new |\n" + BenchmarkSummary.END + "\nrest\n", updated);
    assertEquals(updated, BenchmarkSummary.replaceBlock(updated, "| new |\n"), "idempotent");
  }

  @Test
  void aDocumentWithoutMarkersIsRefusedWithWhatToAdd() {
    var e = assertThrows(IllegalArgumentException.class, () -> BenchmarkSummary.replaceBlock("# Benchmarks\n", "| t |\n"));
    assertTrue(e.getMessage().contains(BenchmarkSummary.BEGIN), e.getMessage());
  }
}
