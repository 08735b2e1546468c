// The slice view's drawing and camera: the windowed slice as one textured quad drawn straight
// into VTK's framebuffer, the text overlays laid out around it, zoom about a point, fit.
#include "SliceViewImpl.h"

namespace vg {

void SliceView::Impl::zoomAbout(QPointF p, double fromScale, double fromFocalX, double fromFocalY, double toScale) {
    const double ox = p.x() * dpr() - deviceWidth() / 2.0, oy = p.y() * dpr() - deviceHeight() / 2.0;
    const double fromPpm = deviceHeight() / 2.0 / fromScale, toPpm = deviceHeight() / 2.0 / toScale;
    const double mx = ox / fromPpm + fromFocalX, my = oy / fromPpm + fromFocalY;
    scale = toScale;
    focalX = mx - ox / toPpm;
    focalY = my - oy / toPpm;
}

void SliceView::Impl::setupScene() {
    window->SetMultiSamples(0);
    window->AddRenderer(renderer);
    renderer->SetBackground(0, 0, 0);
    renderer->SetBackgroundAlpha(1);
    vtkCamera* cam = renderer->GetActiveCamera();
    cam->ParallelProjectionOn();
    for (OverlayText* t : {&caption, &info, &values, &cursor, &labels[0], &labels[1], &labels[2], &labels[3]})
        renderer->AddViewProp(t->prop());
    mapper.attach(renderer, dpr());
    layoutText();
}

void SliceView::Impl::layoutText() {
    const int w = deviceWidth(), h = deviceHeight(), m = static_cast<int>(8 * dpr());
    laidOutWidth = w, laidOutHeight = h;
    const int size = static_cast<int>(std::lround(14 * dpr())), big = static_cast<int>(std::lround(18 * dpr()));
    const QColor text(242, 230, 140), label(140, 217, 255);
    caption.setStyle(text, size + 2, true);
    for (OverlayText* t : {&info, &values, &cursor}) t->setStyle(text, size, false);
    for (auto& l : labels) l.setStyle(label, big, true);
    caption.place(OverlayText::TopLeft, m, h - m);
    info.place(OverlayText::BottomLeft, m, m);
    values.place(OverlayText::BottomRight, w - m, m);
    cursor.place(OverlayText::TopRight, w - m, h - m);
    labels[0].place(OverlayText::Left, m, h / 2);
    labels[1].place(OverlayText::Right, w - m, h / 2);
    labels[2].place(OverlayText::Top, w / 2, h - m - static_cast<int>(22 * dpr()));
    labels[3].place(OverlayText::Bottom, w / 2, m + static_cast<int>(22 * dpr()));
}

void SliceView::Impl::rebuildFrame() {
    if (!volume) return;
    frame = vc::sliceFrame(volume->geometry, plane);
    pixels.assign(static_cast<std::size_t>(frame.width) * static_cast<std::size_t>(frame.height), 0);
    const auto l = vc::edgeLabels(frame);
    for (std::size_t i = 0; i < 4; ++i) labels[i].setText(QString::fromStdString(l[i]));
    readySlice = -1;
    const std::ptrdiff_t sliceStride = static_cast<std::ptrdiff_t>(volume->geometry.nx) * volume->geometry.ny;
    if (!complete && readyZ >= 0 && std::abs(frame.strideK) == sliceStride) // this plane steps through the acquired slices
        readySlice = frame.strideK > 0 ? readyZ : frame.count - 1 - readyZ;
    fitted = false;
    imageDirty = true;
}

void SliceView::Impl::updateImage() {
    if (!volume || !imageDirty) return;
    imageDirty = false;
    if (!canShow(k)) return;
    grey.set(wl);
    vc::renderSlice(*volume, frame, k, grey, pixels.data());
    pixelsDirty = true;
}

void SliceView::Impl::updateText() {
    if (!volume) {
        for (OverlayText* t : {&caption, &info, &values, &cursor}) t->setText({});
        for (auto& l : labels) l.setText({});
        return;
    }
    caption.setText(captionText);
    const char axis = "XYZ"[frame.axisK];
    QString s = QStringLiteral("%1  %2/%3  %4 %5 mm")
                    .arg(QString::fromLatin1(vc::planeName(plane)))
                    .arg(k + 1)
                    .arg(frame.count)
                    .arg(QChar::fromLatin1(axis))
                    .arg(mm(frame.position(k)));
    // short enough not to run into the window/zoom corner: the spacing only when it differs
    QString t;
    if (plane == vc::Plane::Axial && thickness > 0) {
        t = std::abs(thickness - frame.dk) < 0.01 ? QStringLiteral("%1 mm slices").arg(mm(thickness))
                                                  : QStringLiteral("%1 mm slices, %2 apart").arg(mm(thickness), mm(frame.dk, 2));
    } else {
        t = QStringLiteral("reformat, %1 mm apart").arg(mm(frame.dk, 2));
    }
    if (!complete) t += QStringLiteral("  (loading)");
    info.setText(s + "\n" + t);
    values.setText(QStringLiteral("W %1  L %2\nZoom %3x").arg(std::lround(wl.window)).arg(std::lround(wl.level)).arg(mm(zoomFactor(), 2)));
    cursor.setText(cursorText);
}

void SliceView::Impl::placeQuad() {
    const double ppm = pixelsPerMm(), W = deviceWidth(), H = deviceHeight();
    auto x = [&](double u) { return W / 2.0 + (u * frame.du - focalX) * ppm; };
    auto y = [&](double v) { return H - (H / 2.0 + (v * frame.dv - focalY) * ppm); };
    const double left = x(-0.5), right = x(frame.width - 0.5), top = y(-0.5), bottom = y(frame.height - 0.5);
    quadNdc = {static_cast<float>(left / W * 2 - 1), static_cast<float>(bottom / H * 2 - 1), static_cast<float>(right / W * 2 - 1),
               static_cast<float>(top / H * 2 - 1)};
}

void SliceView::Impl::applyCamera() {
    placeQuad();
    vtkCamera* cam = renderer->GetActiveCamera();
    cam->SetFocalPoint(focalX, focalY, 0);
    cam->SetPosition(focalX, focalY, -1000);
    cam->SetViewUp(0, -1, 0);
    cam->SetParallelScale(scale);
    renderer->ResetCameraClippingRange(); // image at z = 0, camera 1000 mm away
    cam->SetClippingRange(1, 2000);
}

void SliceView::Impl::doFit() {
    if (!volume) return;
    const double wMm = frame.width * frame.du, hMm = frame.height * frame.dv;
    const double aspect = static_cast<double>(deviceWidth()) / deviceHeight();
    fitScale = std::max(hMm / 2.0, wMm / 2.0 / aspect) * 1.02;
    scale = fitScale;
    focalX = (frame.width - 1) / 2.0 * frame.du;
    focalY = (frame.height - 1) / 2.0 * frame.dv;
    fitted = true;
}

void SliceView::Impl::drawSlice(GLuint framebuffer, bool showImage) {
    QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
    if (!program) {
        program = new QOpenGLShaderProgram;
        program->addShaderFromSourceCode(QOpenGLShader::Vertex,
                                         "#version 150\n"
                                         "uniform vec4 rect; out vec2 uv;\n"
                                         "void main() {\n"
                                         "  vec2 corner = vec2(gl_VertexID & 1, gl_VertexID >> 1);\n"
                                         "  uv = vec2(corner.x, 1.0 - corner.y);\n" // texture row 0 (the top) at the quad's top
                                         "  gl_Position = vec4(mix(rect.xy, rect.zw, corner), 0.0, 1.0);\n"
                                         "}\n");
        program->addShaderFromSourceCode(QOpenGLShader::Fragment,
                                         "#version 150\n"
                                         "uniform sampler2D slice; in vec2 uv; out vec4 colour;\n"
                                         "void main() { float g = texture(slice, uv).r; colour = vec4(g, g, g, 1.0); }\n");
        program->link();
        f->glGenVertexArrays(1, &vao);
        f->glGenTextures(1, &texture);
    }
    f->glBindFramebuffer(GL_FRAMEBUFFER, framebuffer);
    f->glViewport(0, 0, deviceWidth(), deviceHeight());
    f->glDisable(GL_SCISSOR_TEST);
    f->glDisable(GL_BLEND);
    f->glDisable(GL_DEPTH_TEST);
    f->glDepthMask(GL_TRUE);
    f->glColorMask(GL_TRUE, GL_TRUE, GL_TRUE, GL_TRUE);
    f->glClearColor(0, 0, 0, 1);
    f->glClearDepthf(1);
    f->glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
    if (showImage) {
        f->glActiveTexture(GL_TEXTURE0);
        f->glBindTexture(GL_TEXTURE_2D, texture);
        f->glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
        f->glPixelStorei(GL_UNPACK_ROW_LENGTH, 0);
        if (textureWidth != frame.width || textureHeight != frame.height) {
            f->glTexImage2D(GL_TEXTURE_2D, 0, GL_R8, frame.width, frame.height, 0, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
            f->glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
            textureWidth = frame.width, textureHeight = frame.height;
        } else if (pixelsDirty) {
            f->glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, frame.width, frame.height, GL_RED, GL_UNSIGNED_BYTE, pixels.data());
        }
        pixelsDirty = false;
        program->bind();
        program->setUniformValue("rect", quadNdc[0], quadNdc[1], quadNdc[2], quadNdc[3]);
        program->setUniformValue("slice", 0);
        f->glBindVertexArray(vao);
        f->glDrawArrays(GL_TRIANGLE_STRIP, 0, 4);
        f->glBindVertexArray(0);
        program->release();
        f->glBindTexture(GL_TEXTURE_2D, 0);
    }
    f->glEnable(GL_DEPTH_TEST);
    f->glBindFramebuffer(GL_FRAMEBUFFER, gl->defaultFramebufferObject());
}

void SliceView::Impl::releaseGl() {
    if (!program) return;
    QOpenGLExtraFunctions* f = gl->context()->extraFunctions();
    f->glDeleteVertexArrays(1, &vao);
    f->glDeleteTextures(1, &texture);
    delete program;
    program = nullptr;
}

void SliceView::Impl::updateCursor(QPointF p) {
    double u, v;
    std::int16_t hu;
    if (volume && canShow(k) && self->pixelAt(p, u, v) &&
        vc::valueAt(*volume, frame, k, static_cast<int>(std::lround(u)), static_cast<int>(std::lround(v)), hu)) {
        const auto pt = frame.patient(std::lround(u), std::lround(v), k);
        cursorText = QStringLiteral("%1%2\n(%3, %4, %5) mm")
                         .arg(hu)
                         .arg(unit.isEmpty() ? QString() : " " + unit)
                         .arg(mm(pt[0]))
                         .arg(mm(pt[1]))
                         .arg(mm(pt[2]));
    } else {
        cursorText.clear();
    }
}

} // namespace vg
