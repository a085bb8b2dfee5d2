package org.adcsr.prune;

import org.adcsr.core.sd.SdFixtures;
import org.adcsr.core.sd.LdmNames;
import org.adcsr.core.sd.SdConfig;
import org.adcsr.core.sd.SdLayout;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.adcsr.core.io.TensorInfo;
import org.junit.jupiter.api.Test;

/** The SD layouts against the reference key lists, and the LDM names against CHECKPOINTS.md §6. */
class SdLayoutTest {

    static Map<String, String> lines(List<TensorInfo> ts) {
        Map<String, String> m = new LinkedHashMap<>();
        ts.forEach(t -> m.put(t.name(), t.shapeString()));
        return m;
    }

    @Test
    void sd21UnetIsTheReferenceList() throws IOException {
        List<TensorInfo> unet = SdLayout.unet(SdConfig.sd21Base());
        assertEquals(new ArrayList<>(SdFixtures.reference("sd21_unet_keys.txt").entrySet()),
                new ArrayList<>(lines(unet).entrySet()));
        assertEquals(865_910_724L, unet.stream().mapToLong(TensorInfo::numel).sum());
    }

    @Test
    void sdVaeIsTheReferenceList() throws IOException {
        List<TensorInfo> vae = SdLayout.vae(SdConfig.sd21Base());
        assertEquals(new ArrayList<>(SdFixtures.reference("sd_vae_keys.txt").entrySet()),
                new ArrayList<>(lines(vae).entrySet()));
        assertEquals(83_653_863L, vae.stream().mapToLong(TensorInfo::numel).sum());
    }

    @Test
    void ldmUnetNamesFollowTheSingleFileMapping() {
        SdConfig c = SdConfig.sd21Base();
        String[][] pairs = {
            {"conv_in.weight", "input_blocks.0.0.weight"},
            {"time_embedding.linear_2.bias", "time_embed.2.bias"},
            {"down_blocks.0.resnets.0.norm1.weight", "input_blocks.1.0.in_layers.0.weight"},
            {"down_blocks.0.resnets.1.time_emb_proj.weight", "input_blocks.2.0.emb_layers.1.weight"},
            {"down_blocks.0.attentions.1.proj_in.weight", "input_blocks.2.1.proj_in.weight"},
            {"down_blocks.0.downsamplers.0.conv.weight", "input_blocks.3.0.op.weight"},
            {"down_blocks.1.resnets.0.conv_shortcut.weight", "input_blocks.4.0.skip_connection.weight"},
            {"down_blocks.2.downsamplers.0.conv.bias", "input_blocks.9.0.op.bias"},
            {"down_blocks.3.resnets.1.conv2.weight", "input_blocks.11.0.out_layers.3.weight"},
            {"mid_block.resnets.0.conv1.weight", "middle_block.0.in_layers.2.weight"},
            {"mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight",
                "middle_block.1.transformer_blocks.0.attn2.to_k.weight"},
            {"mid_block.resnets.1.norm2.bias", "middle_block.2.out_layers.0.bias"},
            {"up_blocks.0.resnets.2.conv1.weight", "output_blocks.2.0.in_layers.2.weight"},
            {"up_blocks.0.upsamplers.0.conv.weight", "output_blocks.2.1.conv.weight"},
            {"up_blocks.1.attentions.0.norm.weight", "output_blocks.3.1.norm.weight"},
            {"up_blocks.1.upsamplers.0.conv.weight", "output_blocks.5.2.conv.weight"},
            {"up_blocks.2.upsamplers.0.conv.bias", "output_blocks.8.2.conv.bias"},
            {"up_blocks.3.attentions.2.proj_out.weight", "output_blocks.11.1.proj_out.weight"},
            {"conv_norm_out.weight", "out.0.weight"},
            {"conv_out.bias", "out.2.bias"},
        };
        for (String[] p : pairs) {
            assertEquals(p[1], LdmNames.unet(p[0], c), p[0]);
        }
    }

    @Test
    void ldmVaeNamesFollowTheSingleFileMapping() {
        SdConfig c = SdConfig.sd21Base();
        String[][] pairs = {
            {"encoder.conv_in.weight", "encoder.conv_in.weight"},
            {"encoder.down_blocks.1.resnets.0.conv_shortcut.weight", "encoder.down.1.block.0.nin_shortcut.weight"},
            {"encoder.down_blocks.2.downsamplers.0.conv.bias", "encoder.down.2.downsample.conv.bias"},
            {"encoder.mid_block.resnets.1.norm2.weight", "encoder.mid.block_2.norm2.weight"},
            {"encoder.mid_block.attentions.0.group_norm.bias", "encoder.mid.attn_1.norm.bias"},
            {"decoder.mid_block.attentions.0.to_out.0.weight", "decoder.mid.attn_1.proj_out.weight"},
            {"decoder.mid_block.attentions.0.to_k.bias", "decoder.mid.attn_1.k.bias"},
            {"decoder.up_blocks.0.resnets.2.conv1.weight", "decoder.up.3.block.2.conv1.weight"},
            {"decoder.up_blocks.3.resnets.0.conv_shortcut.bias", "decoder.up.0.block.0.nin_shortcut.bias"},
            {"decoder.up_blocks.2.upsamplers.0.conv.weight", "decoder.up.1.upsample.conv.weight"},
            {"encoder.conv_norm_out.weight", "encoder.norm_out.weight"},
            {"decoder.conv_norm_out.bias", "decoder.norm_out.bias"},
            {"quant_conv.weight", "quant_conv.weight"},
            {"post_quant_conv.bias", "post_quant_conv.bias"},
        };
        for (String[] p : pairs) {
            assertEquals(p[1], LdmNames.vae(p[0], c), p[0]);
        }
        assertEquals("decoder.mid_block.attentions.0.proj_attn.weight",
                LdmNames.oldDiffusersVae("decoder.mid_block.attentions.0.to_out.0.weight"));
        assertEquals("encoder.mid_block.attentions.0.query.bias",
                LdmNames.oldDiffusersVae("encoder.mid_block.attentions.0.to_q.bias"));
    }

    @Test
    void everyLdmNameIsDistinct() {
        SdConfig c = SdConfig.sd21Base();
        assertEquals(686, SdLayout.unet(c).stream().map(t -> LdmNames.unet(t.name(), c)).distinct().count());
        assertEquals(248, SdLayout.vae(c).stream().map(t -> LdmNames.vae(t.name(), c)).distinct().count());
    }
}
