from django import forms
from django.utils.translation import gettext_lazy as _


class AddClusterForm(forms.Form):
    name = forms.SlugField(label=_("Name"), max_length=100, required=False,
                           help_text=_("Defaults to the context name."))
    kubeconfig = forms.CharField(label=_("Kubeconfig"), required=False, widget=forms.Textarea(attrs={"rows": 8}),
                                 help_text=_("Paste a kubeconfig, or upload the file below."))
    kubeconfig_file = forms.FileField(label=_("Kubeconfig file"), required=False)
    context = forms.CharField(label=_("Context"), max_length=255, required=False,
                              help_text=_("Needed when the kubeconfig has several contexts."))

    MAX_FILE_BYTES = 1024 * 1024

    def clean(self):
        data = super().clean()
        upload = data.get("kubeconfig_file")
        if upload:
            if upload.size > self.MAX_FILE_BYTES:
                raise forms.ValidationError(_("The kubeconfig file is larger than 1 MiB."))
            try:
                data["kubeconfig"] = upload.read().decode()
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The kubeconfig file is not text."))
        if not data.get("kubeconfig"):
            raise forms.ValidationError(_("Paste a kubeconfig or upload one."))
        return data


class ImportContextForm(forms.Form):
    source = forms.CharField(widget=forms.HiddenInput)
    context = forms.CharField(widget=forms.HiddenInput)
    name = forms.SlugField(label=_("Name"), max_length=100, required=False)
