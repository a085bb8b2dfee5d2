package org.adcsr.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.io.IOException;
import java.util.List;
import java.util.stream.Collectors;
import org.adcsr.core.io.TensorInfo;
import org.adcsr.core.sd.SdConfig;
import org.junit.jupiter.api.Test;

/** The SD UNet's parameters from its forward, against the reference key list; the discriminator's LoRA layout. */
class SdUnetTest {

    private static List<String> lines(List<TensorInfo> params) {
        return params.stream().map(t -> t.name() + " " + t.shapeString()).collect(Collectors.toList());
    }

    @Test
    void sd21UnetHasTheReferenceKeysAndShapesInOrder() throws IOException {
        List<TensorInfo> p = SdUnet.parameters(SdConfig.sd21Base(), 4);
        assertEquals(ArchitectureTest.referenceKeys("sd21_unet_keys.txt", ""), lines(p));
        assertEquals(865_910_724L, ShapeOps.count(p));
    }

    @Test
    void discriminatorLoraLayoutIsTheSpecs() {
        LoraOps<long[]> lora = new LoraOps<>(new ShapeOps(), LoraOps.officialAdapters(4, LoraOps.PEFT_DEFAULT_ALPHA),
                false);
        List<TensorInfo> p = SdUnet.parameters(lora, SdConfig.sd21Base(), 256);
        List<TensorInfo> loraParams = p.stream().filter(t -> LoraOps.isLoraParameter(t.name()))
                .collect(Collectors.toList());
        assertEquals(2 * 258, loraParams.size());
        assertEquals(4_064_784L, ShapeOps.count(loraParams));
        assertEquals(737_600L, ShapeOps.count(p.stream().filter(t -> t.name().startsWith("conv_in."))
                .filter(t -> !LoraOps.isLoraParameter(t.name())).collect(Collectors.toList())));
        assertEquals("conv_in.lora_A.default_encoder.weight [4, 256, 3, 3]", lines(loraParams).get(0));
        assertEquals("conv_in.lora_B.default_encoder.weight [320, 4, 1, 1]", lines(loraParams).get(1));
    }

    @Test
    void officialTargetRule() {
        assertEquals("default_encoder", LoraOps.officialAdapter("conv_in"));
        assertEquals("default_encoder", LoraOps.officialAdapter("down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k"));
        assertEquals("default_encoder", LoraOps.officialAdapter("down_blocks.1.downsamplers.0.conv"));
        assertEquals("default_decoder", LoraOps.officialAdapter("conv_out"));
        assertEquals("default_decoder", LoraOps.officialAdapter("up_blocks.3.resnets.2.conv_shortcut"));
        assertEquals("default_others", LoraOps.officialAdapter("mid_block.attentions.0.proj_in"));
        assertEquals("default_others", LoraOps.officialAdapter("mid_block.attentions.0.transformer_blocks.0.ff.net.0.proj"));
        assertNull(LoraOps.officialAdapter("conv_norm_out"));
        assertNull(LoraOps.officialAdapter("down_blocks.0.resnets.0.time_emb_proj"));
        assertNull(LoraOps.officialAdapter("time_embedding.linear_1"));
        assertNull(LoraOps.officialAdapter("mid_block.attentions.0.norm"));
    }
}
