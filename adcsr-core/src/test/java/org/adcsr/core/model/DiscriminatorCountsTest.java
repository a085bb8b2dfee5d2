package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.List;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdLayout;
import org.junit.jupiter.api.Test;

class DiscriminatorCountsTest {
    @Test
    void sd21DiscriminatorHasTheOfficialCounts() throws IOException {
        List<DiscriminatorCounts.Row> rows = DiscriminatorCounts.rows(SdConfig.sd21Base(), 256, Discriminator.RANK,
                LoraOps.PEFT_DEFAULT_ALPHA);
        StringBuilder csv = new StringBuilder();
        DiscriminatorCounts.writeCsv(rows, csv);
        String[] lines = csv.toString().split("\r\n");
        assertEquals("module,trainable,lora_layers,params", lines[0]);
        // ADCSR.md §7: 258 LoRA layers with 4,064,784 parameters, conv_in 737,600
        assertEquals("lora,yes,258,4064784", lines[4]);
        assertEquals("conv_in,yes,0,737600", lines[5]);
        assertEquals("trainable,yes,258,4802384", lines[6]);
        // the SD UNet's 865,910,724 with conv_in 4 -> 320 (11,840) replaced by 256 -> 320, plus the LoRA
        long sd = ShapeOps.count(SdLayout.unet(SdConfig.sd21Base()));
        assertEquals(865_910_724L, sd);
        assertEquals("frozen,no,0," + (sd - 11_840), lines[7]);
        assertEquals("total,no,258," + (sd - 11_840 + 737_600 + 4_064_784), lines[8]);
        long layers = 0;
        long params = 0;
        for (int i = 1; i <= 3; i++) {
            String[] f = lines[i].split(",");
            assertEquals("yes", f[1]);
            layers += Long.parseLong(f[2]);
            params += Long.parseLong(f[3]);
        }
        assertEquals("lora.default_encoder", lines[1].split(",")[0]);
        assertEquals(258, layers);
        assertEquals(4_064_784L, params);
        assertEquals(9, lines.length);
    }
}
