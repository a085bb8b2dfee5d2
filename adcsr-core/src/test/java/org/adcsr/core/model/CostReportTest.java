package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.StringReader;
import java.util.List;
import org.adcsr.core.model.ShapeOps.ModuleCost;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVRecord;
import org.junit.jupiter.api.Test;

class CostReportTest {

    @Test
    void csvTotalsEqualThePaperFigures() throws IOException {
        List<ModuleCost> rows = CostReport.costs(AdcsrConfig.paper(), 1, 128, 128);
        StringBuilder out = new StringBuilder();
        CostReport.writeCsv(CostReport.aggregate(rows, 3), out);
        List<CSVRecord> records = CSVFormat.RFC4180.builder().setHeader().setSkipHeaderRecord(true).get()
                .parse(new StringReader(out.toString())).getRecords();
        CSVRecord total = records.get(records.size() - 1);
        assertEquals("total", total.get("module"));
        assertEquals(456_073_683L, Long.parseLong(total.get("params")));
        assertEquals(494.97, Long.parseLong(total.get("macs")) / 1e9, 0.01);
        assertEquals(54.5, Long.parseLong(total.get("attention_macs")) / 1e9, 0.1);
        assertEquals("unet.conv_in", records.get(0).get("module"));
        assertEquals("1x3x512x512", records.get(records.size() - 2).get("output_shape"));
        long blocks = records.stream().filter(r -> r.get("module").startsWith("unet.down_blocks.")).count();
        assertEquals(4, blocks);
    }

    @Test
    void costsScaleWithBatchAndArea() {
        long one = CostReport.costs(AdcsrConfig.tiny(), 1, 32, 32).stream().mapToLong(ModuleCost::macs).sum();
        long four = CostReport.costs(AdcsrConfig.tiny(), 2, 32, 64).stream().mapToLong(ModuleCost::macs).sum();
        assertEquals(4 * one, four);
    }
}
